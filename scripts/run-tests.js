// Runs the test suites one after another and closes with the one `N passed, N failed` line CI reads.
//   features  test/*.test.ts          every feature, with coverage checked against COVERAGE below
//   server    test/server/*.test.ts   what the S3 server itself enforces (a column of answers per server)
//   load      test/load/*.test.ts     concurrent clients through two app instances on one bucket
// `node scripts/run-tests.js features` runs some of them. tap's own summary counts files; we count every
// top-level test of each file.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

const SUITES = {
  features: { files: 'test/*.test.ts', coverage: true },
  server: { files: 'test/server/*.test.ts', coverage: false },
  load: { files: 'test/load/*.test.ts', coverage: false }
}

// The features suite fails below these (per cent of src/, examples/ and bin/ as tap measures them).
const COVERAGE = { lines: 90, branches: 85, functions: 90 }

const asked = process.argv.slice(2)
const names = asked.length === 0 ? Object.keys(SUITES) : asked
for (const name of names) {
  if (!(name in SUITES)) {
    console.error(`Unknown suite "${name}" (one of ${Object.keys(SUITES).join(', ')})`)
    process.exit(2)
  }
}

/** Runs one tap invocation and counts the top-level tests of its files. */
function tap (args) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['tap', '--reporter=tap', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    const counts = { passed: 0, failed: 0, fileFailures: 0 }
    let buffered = ''
    // A file's own subtests sit at four spaces of indentation under `# Subtest: <file>`.
    const count = (line) => {
      if (/^ {4}ok \d+/.test(line)) counts.passed++
      else if (/^ {4}not ok \d+/.test(line)) counts.failed++
      else if (/^not ok \d+/.test(line)) counts.fileFailures++
    }
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk)
      buffered += chunk.toString('utf8')
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) count(line)
    })
    child.on('close', (code) => {
      if (buffered) count(buffered)
      // A file that crashed before reporting its subtests still counts as one failure.
      if (code !== 0 && counts.failed === 0) counts.failed = Math.max(counts.fileFailures, 1)
      resolve({ ...counts, code: code ?? 1 })
    })
  })
}

/** Fails the suite when the coverage tap just measured is under COVERAGE. */
async function checkCoverage () {
  await new Promise((resolve) => spawn('npx', ['tap', 'report', 'json-summary'], { stdio: 'ignore' }).on('close', resolve))
  const total = JSON.parse(readFileSync('.tap/report/coverage-summary.json', 'utf8')).total
  const low = Object.entries(COVERAGE).filter(([kind, min]) => total[kind].pct < min)
  for (const [kind, min] of low) console.error(`coverage: ${kind} ${total[kind].pct}% is under ${min}%`)
  console.log(`coverage: ${Object.keys(COVERAGE).map((kind) => `${kind} ${total[kind].pct}%`).join(', ')}`)
  return low.length === 0
}

let passed = 0
let failed = 0
let exitCode = 0
for (const name of names) {
  const suite = SUITES[name]
  console.log(`# suite: ${name} (${suite.files})`)
  const result = await tap([...(suite.coverage ? ['--allow-incomplete-coverage'] : ['--disable-coverage']), suite.files])
  let ok = result.code === 0
  if (ok && suite.coverage && !(await checkCoverage())) {
    ok = false
    result.failed++
  }
  console.log(`# suite ${name}: ${result.passed} passed, ${result.failed} failed`)
  passed += result.passed
  failed += result.failed
  if (!ok) exitCode = 1
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(exitCode)
