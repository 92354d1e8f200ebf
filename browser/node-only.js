// The "browser" target of mcumgr-ts/node, mcumgr-ts/image and mcumgr-ts/device in package.json "exports": these
// entries need Node.js. The import below cannot resolve, so a bundler stops at build time and its error message
// is this sentence.
import 'mcumgr-ts/node, mcumgr-ts/image and mcumgr-ts/device need Node.js: in a browser, import from "mcumgr-ts"';
