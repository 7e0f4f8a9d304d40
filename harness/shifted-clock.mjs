// Preloaded (`node --import`) into a child process (a CLI run in tests, the sweep in the demo): moves its clock forward by
// ROTATOR_TEST_CLOCK_OFFSET_MS, so a secret rotated a moment ago in moto looks days old.
// Nothing in the product reads this; moto does not check request times.
const offset = Number(process.env.ROTATOR_TEST_CLOCK_OFFSET_MS ?? 0);
const RealDate = Date;

class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}

globalThis.Date = ShiftedDate;
