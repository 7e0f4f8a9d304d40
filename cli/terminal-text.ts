/**
 * Text for a terminal. Reasons, actors and names come from events and clusters, so an ESC, BEL or
 * CSI in them must not drive the terminal (review L3).
 */

// C0 controls except tab and newline, DEL, and C1 controls (U+0080–U+009F; U+009B is a CSI).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with terminal control characters removed (tab and newline kept). */
export function withoutControls(text: string): string {
  return text.replace(CONTROLS, '');
}
