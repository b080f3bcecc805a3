// A test-only preload (NODE_OPTIONS=--require <this file>): when the process exits, it writes the
// path of every CommonJS module it loaded, one a line, to LOADED_MODULES_FILE, so a test can tell
// which packages a real server process loaded (test/integration/system/tracing.test.ts).
const { writeFileSync } = require('node:fs');

const file = process.env.LOADED_MODULES_FILE;
if (file) process.on('exit', () => writeFileSync(file, Object.keys(require.cache).join('\n')));
