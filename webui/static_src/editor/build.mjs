// Bundles the process editor's browser code (issue 12 §1) into webui/static/vendor/editor/ (git-ignored):
// the bpmn-js modeler with the properties panel and our provider, and the dmn-js modeler.  Run by the
// Makefile's `vendor` target: `node webui/static_src/editor/build.mjs`.
//
// Our Content-Security-Policy has no 'unsafe-inline' for styles, so markup with style="" attributes is
// refused by the browser (and reported).  The few such strings in these libraries are rewritten here at
// bundle time to data-cl-style="" and their styles given by class in webui/static/editor/editor.css;
// CodeMirror's style-mod (in dmn-js's cell editors) is made to use a constructed style sheet (CSSOM, which
// the policy allows) for the document too, instead of a <style> element it would otherwise add.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";

const INLINE_STYLES = [
  /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/,
  /dmn-js-shared[\\/]lib[\\/]util[\\/]PoweredByUtil\.js$/,
  /dmn-js-decision-table[\\/]lib[\\/]features[\\/]drag-and-drop[\\/]DragAndDrop\.js$/,
];

const STYLE_MOD = /style-mod[\\/]src[\\/]style-mod\.js$/;

const noInlineStyles = {
  name: "no-inline-styles",
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (STYLE_MOD.test(args.path)) {
        const text = await readFile(args.path, "utf8");
        const patched = text.replace("if (!root.head && root.adoptedStyleSheets", "if (root.adoptedStyleSheets");
        if (patched === text) { throw new Error("style-mod changed: review webui/static_src/editor/build.mjs"); }
        return { contents: patched, loader: "js" };
      }
      if (!INLINE_STYLES.some((re) => re.test(args.path))) { return undefined; }
      const text = await readFile(args.path, "utf8");
      return { contents: text.replace(/([ '`])style="/g, '$1data-cl-style="'), loader: "js" };
    });
  },
};

const common = {
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2019",
  logLevel: "warning",
  plugins: [noInlineStyles],
};

await build({ ...common, entryPoints: ["webui/static_src/editor/modeler.js"], outfile: "webui/static/vendor/editor/closeloop-modeler.js" });
await build({ ...common, entryPoints: ["webui/static_src/editor/dmn.js"], outfile: "webui/static/vendor/editor/closeloop-dmn.js" });
