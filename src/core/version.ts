/** Ferry's version, shown by the CLI and the API document. */
export const VERSION = '0.1.0';
