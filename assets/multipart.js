/*
 * fastify-s3-storage — the file browser's multipart uploader (presign mode, files above the namespace's
 * multipartThreshold). Parts go straight to S3 through URLs the namespace's `s3/multipart` routes sign;
 * browse.js hands a large file over and keeps the upload list. Read part by part with File.slice (never the
 * whole file), one XHR per part for progress, a few in parallel, each retried with backoff; a 403 from S3
 * (an expired URL) signs the part again. Unfinished uploads are remembered in localStorage so that picking
 * the same file again after a reload offers to resume, sending only the parts S3 does not have.
 */
/* global window, localStorage, XMLHttpRequest, setTimeout */
(function () {
  'use strict'

  const MiB = 1024 * 1024
  const MIN_PART = 8 * MiB
  const MAX_PARTS = 10000
  const PARALLEL = 4
  const ATTEMPTS = 6
  const SIGN_AHEAD = 10
  const STORE_KEY = 'fastify-s3-storage:multipart'
  // S3 lifecycle rules usually abort unfinished uploads after days: older records are not worth offering.
  const REMEMBER_MS = 7 * 24 * 3600 * 1000

  /** At least 8 MiB, grown (in whole MiB) so the file fits in 10,000 parts. */
  function partSizeFor (size) {
    const needed = Math.ceil(size / MAX_PARTS)
    return needed <= MIN_PART ? MIN_PART : Math.ceil(needed / MiB) * MiB
  }

  // ---------- remembered uploads ----------

  function readStore () {
    try {
      const list = JSON.parse(localStorage.getItem(STORE_KEY) || '[]')
      return Array.isArray(list) ? list.filter((r) => r && typeof r.uploadId === 'string' && Date.now() - r.created < REMEMBER_MS) : []
    } catch {
      return []
    }
  }

  function writeStore (list) {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(list.slice(-50)))
    } catch {}
  }

  function remember (record) {
    writeStore(readStore().filter((r) => r.uploadId !== record.uploadId).concat([record]))
  }

  function forget (uploadId) {
    if (uploadId) writeStore(readStore().filter((r) => r.uploadId !== uploadId))
  }

  function findRemembered (namespace, path, file) {
    return readStore().find((r) => r.namespace === namespace && r.path === path && r.name === file.name &&
      r.size === file.size && r.lastModified === file.lastModified)
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  const backoff = (attempt) => Math.min(16000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2)
  const STOP = { stopped: true }

  class HttpError extends Error {
    constructor (status, body) {
      super((body && body.message) || 'HTTP ' + status)
      this.status = status
      this.code = body && body.code
      this.etag = body && body.etag
    }
  }

  /** The uploader, given the page's helpers (see browse.js `initMultipart`). */
  function createMultipart (page) {
    const { cfg, api, h, setState, setProgress, fail, succeed, finished, dismiss, pump, announce, formatSize } = page
    const base = cfg.multipartUrl
    const uploadUrl = (up, suffix, query) => base + '/' + encodeURIComponent(up.uploadId) + (suffix || '') +
      '?' + new URLSearchParams(Object.assign({ key: up.key }, query || {}))

    function handles (item) {
      return cfg.uploadMode === 'presign' && Boolean(base) && item.file.size > cfg.multipartThreshold && !item.ifMatch
    }

    function session (item, record) {
      const path = cfg.path + item.dir + item.name
      return {
        path,
        partSize: record ? record.partSize : partSizeFor(item.file.size),
        key: record && record.key,
        uploadId: record && record.uploadId,
        record,
        // Parts this page saw S3 accept (number → ETag), remembered with the upload.
        confirmed: Object.assign({}, record && record.done),
        done: new Map(),
        inflight: new Map(),
        urls: new Map(),
        signing: new Map(),
        xhrs: new Set(),
        run: 0
      }
    }

    function partsOf (up, size) {
      const count = Math.max(1, Math.ceil(size / up.partSize))
      const parts = []
      for (let n = 1; n <= count; n++) {
        const start = (n - 1) * up.partSize
        parts.push({ n, start, end: Math.min(size, start + up.partSize) })
      }
      return parts
    }

    function showProgress (item, up) {
      let sent = 0
      for (const part of up.done.values()) sent += part.Size
      for (const loaded of up.inflight.values()) sent += loaded
      setProgress(item, Math.min(item.file.size, sent), item.file.size)
    }

    const sameTag = (a, b) => String(a || '').replace(/"/g, '') === String(b || '').replace(/"/g, '')

    /**
     * S3's parts that this page saw accepted, with the same ETag and size; any other is sent again (S3
     * replaces a part). Some stores list a part whose upload was cut off by the reload, bytes missing.
     */
    async function listDone (up, item) {
      const { status, body } = await api('GET', uploadUrl(up))
      if (status !== 200 || !Array.isArray(body)) throw new HttpError(status, body)
      const layout = new Map(partsOf(up, item.file.size).map((p) => [p.n, p.end - p.start]))
      up.done = new Map()
      for (const part of body) {
        const seen = up.confirmed[part.PartNumber]
        if (seen === undefined || (seen !== '' && !sameTag(seen, part.ETag))) continue
        if (layout.get(part.PartNumber) === part.Size) up.done.set(part.PartNumber, { PartNumber: part.PartNumber, ETag: part.ETag, Size: part.Size })
      }
    }

    // Signed URLs, a batch at a time; a part's URL is dropped when S3 refuses it (expired).
    function urlFor (up, n, pending) {
      const cached = up.urls.get(n)
      if (cached && cached.until > Date.now()) return Promise.resolve(cached.url)
      if (up.signing.has(n)) return up.signing.get(n)
      const numbers = [n].concat(pending.filter((m) => m !== n && !up.signing.has(m) && !(up.urls.get(m) && up.urls.get(m).until > Date.now())).slice(0, SIGN_AHEAD - 1))
      const request = api('GET', uploadUrl(up, '/batch', { partNumbers: numbers.join(',') })).then(({ status, body }) => {
        if (status !== 200 || !body.presignedUrls) throw new HttpError(status, body)
        // Used well before expiry: the clocks of the page and the signer need not agree.
        const until = Date.now() + Math.max(10, Number(body.expires) || 300) * 800
        for (const m of numbers) if (body.presignedUrls[m]) up.urls.set(m, { url: body.presignedUrls[m], until })
      })
      for (const m of numbers) {
        const promise = request.then(() => {
          const signed = up.urls.get(m)
          if (!signed) throw new HttpError(500, { message: 'part ' + m + ' was not signed' })
          return signed.url
        }).finally(() => up.signing.delete(m))
        promise.catch(() => {})
        up.signing.set(m, promise)
      }
      return up.signing.get(n)
    }

    function put (up, url, blob, onProgress) {
      return new Promise((resolve) => {
        const xhr = new XMLHttpRequest()
        up.xhrs.add(xhr)
        xhr.upload.addEventListener('progress', (event) => onProgress(event.loaded))
        xhr.addEventListener('load', () => resolve({ status: xhr.status, etag: xhr.getResponseHeader('ETag') }))
        xhr.addEventListener('error', () => resolve({ status: 0 }))
        xhr.addEventListener('abort', () => resolve({ status: -1 }))
        xhr.addEventListener('loadend', () => up.xhrs.delete(xhr))
        xhr.open('PUT', url)
        xhr.send(blob)
      })
    }

    async function sendPart (item, up, part, pending, stopped) {
      for (let attempt = 1; ; attempt++) {
        if (stopped()) throw STOP
        let status
        try {
          const url = await urlFor(up, part.n, pending)
          if (stopped()) throw STOP
          const result = await put(up, url, item.file.slice(part.start, part.end), (loaded) => {
            up.inflight.set(part.n, loaded)
            showProgress(item, up)
          })
          up.inflight.delete(part.n)
          status = result.status
          if (status >= 200 && status < 300) {
            up.done.set(part.n, { PartNumber: part.n, ETag: result.etag || '', Size: part.end - part.start })
            up.confirmed[part.n] = result.etag || ''
            if (up.record) remember(Object.assign(up.record, { done: up.confirmed }))
            showProgress(item, up)
            return
          }
          if (status === -1) throw STOP
          // 403: the signed URL expired (or the clock moved): sign it again.
          if (status === 403) up.urls.delete(part.n)
          else if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new HttpError(status === 400 ? 400 : 502)
        } catch (err) {
          if (err === STOP || stopped()) throw STOP
          status = err.status
          // The upload is gone on the server, or the page may not sign: no retry helps.
          if (status === 401 || status === 404 || (status >= 400 && status < 500 && status !== 403 && status !== 408 && status !== 429)) throw err
        }
        up.inflight.delete(part.n)
        if (attempt >= ATTEMPTS) throw new HttpError(status === 403 ? 403 : status || 0)
        await sleep(status === 403 && attempt === 1 ? 0 : backoff(attempt))
      }
    }

    async function create (item, up) {
      const { status, body } = await api('POST', base, {
        filename: up.path,
        type: item.file.type || 'application/octet-stream',
        metadata: { name: item.name },
        size: item.file.size
      })
      if (status !== 200 || !body.uploadId) throw new HttpError(status, body)
      up.key = body.key
      up.uploadId = body.uploadId
      up.record = {
        namespace: cfg.namespace,
        path: up.path,
        name: item.file.name,
        size: item.file.size,
        lastModified: item.file.lastModified,
        key: up.key,
        uploadId: up.uploadId,
        partSize: up.partSize,
        created: Date.now(),
        done: up.confirmed
      }
      remember(up.record)
    }

    async function complete (item, up) {
      let parts = Array.from(up.done.values()).sort((a, b) => a.PartNumber - b.PartNumber)
      // Without `ETag` in the bucket's CORS exposed headers the page cannot read it: S3's list has them.
      if (parts.some((p) => !p.ETag)) {
        await listDone(up, item)
        parts = Array.from(up.done.values()).sort((a, b) => a.PartNumber - b.PartNumber)
      }
      const { status, body } = await api('POST', uploadUrl(up, '/complete'), { parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) })
      if (status >= 200 && status < 300) return
      // Refused (too large, exists, a wrong part): the server has aborted the upload, start over next time.
      if (status >= 400 && status < 500) {
        forget(up.uploadId)
        up.dead = true
      }
      throw new HttpError(status, body)
    }

    async function run (item) {
      const up = item.multipart
      const gen = ++up.run
      up.paused = false
      const stopped = () => up.run !== gen || up.paused || up.dead || item.state !== 'uploading'
      try {
        if (up.uploadId) {
          try {
            await listDone(up, item)
          } catch (err) {
            if (err.status !== 404) throw err
            // S3 (or the server's seal) no longer knows it: start the file over.
            forget(up.uploadId)
            Object.assign(up, session(item), { run: gen })
            announce(item.name + ': the earlier upload is gone, starting over')
          }
        }
        if (stopped()) return
        if (!up.uploadId) {
          await create(item, up)
          if (up.dead) return abort(up)
        }
        if (stopped()) return
        setState(item, 'uploading', up.done.size > 0 ? 'Resuming…' : 'Uploading…') // now with Pause
        showProgress(item, up)
        const pending = partsOf(up, item.file.size).filter((p) => !up.done.has(p.n))
        const queue = pending.map((p) => p.n)
        let failure
        const worker = async () => {
          while (pending.length > 0 && !failure && !stopped()) {
            const part = pending.shift()
            queue.splice(queue.indexOf(part.n), 1)
            try {
              await sendPart(item, up, part, queue, stopped)
            } catch (err) {
              if (err !== STOP) failure = failure || err
              return
            }
          }
        }
        await Promise.all(Array.from({ length: PARALLEL }, worker))
        if (failure) throw failure
        if (stopped()) return
        setState(item, 'uploading', 'Finishing…')
        await complete(item, up)
        forget(up.uploadId)
        up.dead = true
        succeed(item)
      } catch (err) {
        if (err === STOP || up.run !== gen || up.paused || item.state !== 'uploading') return
        for (const xhr of up.xhrs) xhr.abort()
        const status = err.status === undefined ? 0 : err.status
        fail(item, status, err.code || (status === 0 ? 'S3_UNREACHABLE' : undefined), err.message, err.etag)
      } finally {
        if (up.run === gen) finished(item)
      }
    }

    function abort (up) {
      forget(up.uploadId)
      if (up.uploadId) api('DELETE', uploadUrl(up))
    }

    /** Takes over a file from browse.js `start` (the item is in state 'uploading'). */
    async function start (item) {
      let up = item.multipart
      if (!up || up.dead || !up.uploadId) {
        const path = cfg.path + item.dir + item.name
        const found = item.startOver ? undefined : findRemembered(cfg.namespace, path, item.file)
        up = item.multipart = session(item, found)
        up.dead = false
        if (found) return await offerResume(item, up)
      }
      await run(item)
    }

    // The same file was picked again: say how much S3 has and let the user choose.
    async function offerResume (item, up) {
      let sent
      try {
        await listDone(up, item)
        sent = 0
        for (const part of up.done.values()) sent += part.Size
      } catch (err) {
        if (err.status === 404) {
          forget(up.uploadId)
          item.multipart = undefined
          return await start(item)
        }
      }
      if (item.state !== 'uploading') return finished(item)
      if (sent !== undefined) setProgress(item, sent, item.file.size)
      setState(item, 'resumable', sent === undefined
        ? 'An unfinished upload of this file was found.'
        : `An unfinished upload of this file was found: ${formatSize(sent)} already sent.`)
      announce(`${item.name}: an unfinished upload was found. Resume it, or start over.`)
      const button = item.el.actions.querySelector('[data-resume]')
      if (button) button.focus()
      finished(item)
    }

    function resume (item) {
      setState(item, 'queued', 'Waiting…')
      pump()
    }

    function startOver (item) {
      if (item.multipart) abort(item.multipart)
      item.multipart = undefined
      item.startOver = true
      setProgress(item, 0, item.file.size)
      setState(item, 'queued', 'Waiting…')
      pump()
    }

    function pause (item) {
      const up = item.multipart
      up.paused = true
      up.run++
      for (const xhr of up.xhrs) xhr.abort()
      up.inflight.clear()
      showProgress(item, up)
      setState(item, 'paused', 'Paused')
      finished(item)
    }

    /** Cancel: stops the parts and aborts the multipart upload (S3 drops what it has). */
    function cancel (item) {
      const up = item.multipart
      if (up) {
        up.dead = true
        up.run++
        for (const xhr of up.xhrs) xhr.abort()
        abort(up)
      }
      item.multipart = undefined
      setState(item, 'canceled', 'Canceled')
      finished(item)
    }

    /** Buttons this uploader adds to a list item, before browse.js' own. */
    function actions (item) {
      if (!item.multipart) return []
      const label = (what) => what + ' the upload of ' + item.name
      if (item.state === 'uploading' && item.multipart.uploadId) {
        return [h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-pause': '', 'aria-label': label('Pause'), onclick: () => pause(item) }, 'Pause')]
      }
      if (item.state === 'paused') {
        return [
          h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-resume': '', 'aria-label': label('Resume'), onclick: () => resume(item) }, 'Resume'),
          h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': label('Cancel'), onclick: () => cancel(item) }, 'Cancel')
        ]
      }
      if (item.state === 'resumable') {
        return [
          h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-resume': '', 'aria-label': label('Resume'), onclick: () => resume(item) }, 'Resume'),
          h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-start-over': '', 'aria-label': 'Start the upload of ' + item.name + ' over', onclick: () => startOver(item) }, 'Start over'),
          h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': 'Not now: remove ' + item.name + ' from the list', onclick: () => dismiss(item) }, 'Not now')
        ]
      }
      return []
    }

    return { handles, start, cancel, actions }
  }

  window.fastifyS3StorageMultipart = { createMultipart, partSizeFor }
})()
