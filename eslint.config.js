import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default neostandard({
  ignores: [...resolveIgnoresFromGitignore(), 'assets/vendor/**'],
  ts: true
})
