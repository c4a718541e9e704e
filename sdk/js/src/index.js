/*
 * WHAT: the ES module build: `import footfall from 'footfall-js'` (or the named export).
 *       The same object as window.footfall in the script-tag build. Inert outside a browser.
 */
import { create } from './core.js';

const footfall = create(typeof window != 'undefined' ? window : undefined);
export default footfall;
export { footfall };
