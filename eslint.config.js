// Typed linting over the whole TypeScript tree and the mini program's JS; syntax and globals for the k6 scripts.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import * as espree from "espree";

export default tseslint.config(
  // test/mini-program/seeds: the seeds' page code, kept verbatim (not ours to restyle).
  { ignores: ["node_modules", "data", "dist", "src/db/migrations", "mini-program/lib/protocol.js", "test/mini-program/seeds", "coverage", "console/dist", "load-tests/k6/lib/protocol.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["console/vite.config.ts"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  { files: ["**/*.js"], ...tseslint.configs.disableTypeChecked },
  {
    // k6 scripts: ES2015 modules run by k6, not Node; k6's globals, and the generated protocol bundle left alone.
    files: ["load-tests/k6/**/*.js"],
    ignores: ["load-tests/k6/lib/protocol.js"],
    // ES2017 syntax at most: k6 0.48 refuses `?.`, `??` and `catch {}` (load testers run 0.48 through 2.x).
    languageOptions: { parser: espree, ecmaVersion: 2017, sourceType: "module", globals: { __ENV: "readonly", __VU: "readonly", __ITER: "readonly", open: "readonly", console: "readonly" } },
    rules: {
      "@typescript-eslint/consistent-type-imports": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
    },
  },
  // The WeChat mini program: CommonJS with the platform's globals, typed by mini-program/tsconfig.json
  // (miniprogram-api-typings), so a promise nobody handles is an error there too.
  {
    files: ["mini-program/**/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        wx: "readonly",
        App: "readonly",
        Page: "readonly",
        Component: "readonly",
        Behavior: "readonly",
        getApp: "readonly",
        getCurrentPages: "readonly",
        requirePlugin: "readonly",
        require: "readonly",
        module: "writable",
        exports: "writable",
        console: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
      },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...tseslint.configs.recommendedTypeChecked.reduce((rules, c) => ({ ...rules, ...c.rules }), {}),
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
);
