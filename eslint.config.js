import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

// operations/ is the only way into S3: nothing else may call the SDK's S3 packages (types are fine).
// profiles/client.ts builds the clients, dev/ runs local servers for tests and examples.
const S3_PACKAGES = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner', '@aws-sdk/s3-presigned-post']

export default [
  ...neostandard({
    ignores: [...resolveIgnoresFromGitignore(), 'assets/vendor/**'],
    ts: true
  }),
  {
    files: ['src/**/*.ts'],
    ignores: ['src/operations/**', 'src/profiles/client.ts', 'src/dev/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: S3_PACKAGES.map((name) => ({
          name,
          allowTypeImports: true,
          message: 'S3 calls go through src/operations/ (the only way into S3); import types only.'
        }))
      }]
    }
  }
]
