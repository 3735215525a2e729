// The example's file browser: its browse options and the sample files it starts with. Shared by
// examples/app.js (`npm start`) and the browser tests (test/browse-ui.test.ts), so the tests drive exactly
// what a newcomer sees.
import { deflateSync } from 'node:zlib'

/** The namespace the example mounts over the demo bucket. */
export const NAMESPACE = 'demo'

/**
 * The `browse` options of the example: one namespace over the bucket's `files/` folder.
 * @param {{ uploadMode?: 'stream' | 'presign', templateFolder?: string, basePath?: string }} [options]
 */
export function browseOptions ({ uploadMode = 'stream', templateFolder, basePath = 'files' } = {}) {
  return {
    namespaces: {
      [NAMESPACE]: {
        profile: 'main',
        basePath,
        uploadMode,
        maxUploadBytes: 1024 ** 3,
        pageSize: 100
      }
    },
    templateFolder
  }
}

/** The sample files, by path inside the namespace. */
export function sampleFiles () {
  return {
    'README.md': '# Welcome\n\nThis is the fastify-s3-storage example. Everything here lives in an S3 bucket.\n\n' +
      '- Drop files anywhere on the page to upload them (folders too).\n' +
      '- Click a name to preview it; use the icons to download, share or delete.\n' +
      '- Type in the search box to find a name in this folder and below.\n',
    'hello.json': JSON.stringify({ hello: 'world', served: 'straight from S3', unicode: '한글 ✓' }, null, 2) + '\n',
    '한글 이름.txt': '한글 파일 이름도 그대로 저장되고 검색됩니다.\nUnicode names round-trip exactly, and search finds them in any normalisation.\n',
    'sunset.png': sunsetPng(),
    'logo.svg': LOGO_SVG,
    'Photos/harbour.png': sunsetPng({ sky: [[36, 59, 85], [126, 175, 196]], sun: [255, 236, 170], sea: [22, 58, 82] }),
    'Reports/annual-report-2024.pdf': tinyPdf('Annual report 2024', 'Stored in S3, previewed in place.'),
    'Reports/q3-summary.csv': 'quarter,revenue,growth\nQ1,1200,4%\nQ2,1350,12%\nQ3,1490,10%\n',
    'Music/chime.wav': chimeWav()
  }
}

/** Uploads the samples unless the namespace already holds something. */
export async function seedSamples (app, { basePath = 'files' } = {}) {
  const ops = app.storage.operations('main')
  const first = await ops.list({ location: basePath, limit: 1 })
  if (first.files.length + first.folders.length > 0) return false
  for (const [name, body] of Object.entries(sampleFiles())) {
    await ops.uploadFile(body, name, { location: basePath, preserveFilename: true })
  }
  return true
}

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="256" height="256">
  <rect width="64" height="64" rx="16" fill="#3e63dd"/>
  <ellipse cx="32" cy="22" rx="15" ry="5.5" fill="none" stroke="#fff" stroke-width="4"/>
  <path d="M17 22l3.4 22.5a5 5 0 0 0 5 4.5h13.2a5 5 0 0 0 5-4.5L47 22" fill="none" stroke="#fff" stroke-width="4" stroke-linejoin="round"/>
</svg>
`

// A small PNG drawn here (no binary fixtures in the repository): a sky gradient, a sun and the sea.
function sunsetPng ({ sky = [[43, 38, 97], [250, 128, 90]], sun = [255, 214, 120], sea = [35, 52, 110] } = {}) {
  const width = 480
  const height = 300
  const rows = []
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3)
    for (let x = 0; x < width; x++) {
      const t = y / (height * 0.62)
      let color = sky[0].map((c, i) => Math.round(c + (sky[1][i] - c) * Math.min(1, t)))
      const dx = x - width * 0.5
      const dy = y - height * 0.6
      if (dx * dx + dy * dy < 52 * 52 && y < height * 0.62) color = sun
      if (y >= height * 0.62) {
        const shimmer = Math.abs(dx) < 60 - (y - height * 0.62) * 0.4 && (y % 6 < 2) ? 0.55 : 0
        color = sea.map((c, i) => Math.round(c + (sun[i] - c) * shimmer))
      }
      row.set(color, 1 + x * 3)
    }
    rows.push(row)
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const out = Buffer.alloc(8 + data.length + 4)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body), 8 + data.length)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0))
  ])
}

function crc32 (buffer) {
  let crc = ~0
  for (const byte of buffer) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return ~crc >>> 0
}

// A one-page PDF with a title and a line of text, offsets computed so any reader accepts it.
function tinyPdf (title, line) {
  const text = (s) => s.replace(/[\\()]/g, (c) => '\\' + c)
  const content = `BT /F1 30 Tf 72 740 Td (${text(title)}) Tj ET\nBT /F1 14 Tf 72 706 Td (${text(line)}) Tj ET\n`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}endstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
  ]
  let pdf = '%PDF-1.4\n'
  const offsets = []
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf))
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`
  })
  const xref = Buffer.byteLength(pdf)
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(pdf, 'latin1')
}

// Two seconds of a soft two-note chime, 16-bit mono WAV.
function chimeWav () {
  const rate = 16000
  const samples = rate * 2
  const data = Buffer.alloc(samples * 2)
  for (let i = 0; i < samples; i++) {
    const t = i / rate
    const note = t < 0.6 ? 880 : 660
    const since = t < 0.6 ? t : t - 0.6
    const value = Math.sin(2 * Math.PI * note * t) * Math.exp(-3 * since) * 0.4
    data.writeInt16LE(Math.round(value * 32767), i * 2)
  }
  const header = Buffer.alloc(44)
  header.write('RIFF', 0, 'ascii')
  header.writeUInt32LE(36 + data.length, 4)
  header.write('WAVEfmt ', 8, 'ascii')
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20)
  header.writeUInt16LE(1, 22)
  header.writeUInt32LE(rate, 24)
  header.writeUInt32LE(rate * 2, 28)
  header.writeUInt16LE(2, 32)
  header.writeUInt16LE(16, 34)
  header.write('data', 36, 'ascii')
  header.writeUInt32LE(data.length, 40)
  return Buffer.concat([header, data])
}
