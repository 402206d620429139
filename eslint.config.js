// ESLint for the phone app (make lint): the recommended rules, plain ES modules in a browser;
// and for the Node scripts the tests run (the store tests, the tests' OpenID provider).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: [".venv/", "node_modules/", "staticfiles/", "bench/", "data/"] },
  js.configs.recommended,
  {
    files: ["bleep/static/app/js/**/*.js"],
    languageOptions: { sourceType: "module", globals: globals.browser },
  },
  {
    // The service worker is a classic script with the worker's globals, not the page's.
    files: ["bleep/static/app/sw.js"],
    languageOptions: { sourceType: "script", globals: globals.serviceworker },
  },
  {
    files: ["tests/app/**/*.mjs", "tests/oidc/**/*.mjs", "eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
