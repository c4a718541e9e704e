// vendor/uplot.js -- the entry of the uPlot bundle (uplot.js + uplot.css), built on its own by
// build.mjs: it holds only the pinned uPlot, so its content hash (and URL) stays the same
// across dashboard releases and browsers keep it cached. The app imports 'uplot' as usual;
// build.mjs points that import at this bundle.
import 'uplot/dist/uPlot.min.css';

export { default } from 'uplot';
