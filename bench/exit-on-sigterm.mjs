// Loaded with --import into a profiled step host (bench/workflow.ts --cpu-prof): Node writes a
// --cpu-prof profile only on an ordinary exit, and BundleHost stops its host with SIGTERM.
process.once('SIGTERM', () => process.exit(0));
