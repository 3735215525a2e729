// Runs the tap suite and closes with the plain `N passed, N failed` line CI reads.
// tap's own summary counts test files; we count every top-level test point of each file.
import { spawn } from 'node:child_process'

const args = ['tap', '--reporter=tap', ...process.argv.slice(2)]
const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'inherit'] })

let passed = 0
let failed = 0
let buffered = ''
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  buffered += chunk.toString('utf8')
  const lines = buffered.split('\n')
  buffered = lines.pop() ?? ''
  for (const line of lines) count(line)
})

// A file's own subtests sit at four spaces of indentation under `# Subtest: <file>`.
function count (line) {
  if (/^ {4}ok \d+/.test(line)) passed++
  else if (/^ {4}not ok \d+/.test(line)) failed++
  else if (/^not ok \d+/.test(line) && !/^ {4}/.test(line)) fileFailures++
}
let fileFailures = 0

child.on('close', (code) => {
  if (buffered) count(buffered)
  // A file that crashed before reporting its subtests still counts as one failure.
  if (code !== 0 && failed === 0) failed = Math.max(fileFailures, 1)
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(code ?? 1)
})
