/*
 * fastify-s3-storage — the file browser's script. Plain browser JavaScript, no framework and no build:
 * the page works without it (links, forms) and this file adds live search, sorting, uploads with progress,
 * previews, share links, delete and new folder on top (and, with assets/selection.js, selection and bulk actions).
 *
 * Loaded in <head> (not deferred) so the remembered theme applies before the first paint; everything else
 * waits for DOMContentLoaded. Every value from the bucket reaches the DOM through textContent or an
 * attribute, never as markup; listings are re-rendered by the server's own templates and swapped in.
 */
/* global window, document, localStorage, navigator, location, history, fetch, XMLHttpRequest, FormData,
   DOMParser, AbortController, TextDecoder, Intl, URLSearchParams, matchMedia, setTimeout, clearTimeout */
(function () {
  'use strict'

  const root = document.documentElement
  root.classList.remove('no-js')
  root.classList.add('js')

  // ---------- theme (before first paint) ----------

  const THEME_KEY = 'fastify-s3-storage:theme'
  const darkQuery = matchMedia('(prefers-color-scheme: dark)')

  function readTheme () {
    try {
      return localStorage.getItem(THEME_KEY)
    } catch {
      return null
    }
  }
  const remembered = readTheme()
  if (remembered === 'light' || remembered === 'dark') root.dataset.theme = remembered

  function currentTheme () {
    return root.dataset.theme || (darkQuery.matches ? 'dark' : 'light')
  }

  // A theme switch repaints at once: colours fading one by one through their transitions look broken.
  function switchTheme (change) {
    root.classList.add('theme-switching')
    change()
    root.getBoundingClientRect() // a reflow applies the change before transitions come back
    setTimeout(() => root.classList.remove('theme-switching'), 50)
  }

  function initTheme () {
    const button = document.querySelector('[data-theme-toggle]')
    const label = () => button && button.setAttribute('aria-label', currentTheme() === 'dark' ? 'Switch to light theme' : 'Switch to dark theme')
    label()
    darkQuery.addEventListener('change', () => switchTheme(label))
    if (!button) return
    button.addEventListener('click', () => switchTheme(() => {
      const next = currentTheme() === 'dark' ? 'light' : 'dark'
      root.dataset.theme = next
      try {
        localStorage.setItem(THEME_KEY, next)
      } catch {}
      label()
    }))
  }

  // ---------- small helpers ----------

  const $ = (selector, scope) => (scope || document).querySelector(selector)
  const $$ = (selector, scope) => Array.from((scope || document).querySelectorAll(selector))
  const SVG = 'http://www.w3.org/2000/svg'

  /** An element with attributes and children (strings become text nodes, never markup). */
  function h (tag, attrs, ...children) {
    const node = document.createElement(tag)
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue
      if (key === 'class') node.className = value
      else if (key === 'text') node.textContent = value
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
      else node.setAttribute(key, value === true ? '' : String(value))
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue
      node.append(typeof child === 'string' ? document.createTextNode(child) : child)
    }
    return node
  }

  function icon (id, className) {
    const svg = document.createElementNS(SVG, 'svg')
    svg.setAttribute('class', 'icon' + (className ? ' ' + className : ''))
    svg.setAttribute('aria-hidden', 'true')
    svg.setAttribute('focusable', 'false')
    const use = document.createElementNS(SVG, 'use')
    use.setAttribute('href', '#' + id)
    svg.append(use)
    return svg
  }

  function formatSize (bytes) {
    if (!(bytes >= 1024)) return Math.max(0, Math.floor(bytes || 0)) + ' B'
    const units = ['KB', 'MB', 'GB', 'TB', 'PB']
    let value = bytes / 1024
    let unit = 0
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024
      unit++
    }
    return (value < 10 ? value.toFixed(1) : Math.round(value)) + ' ' + units[unit]
  }

  function formatDuration (seconds) {
    if (seconds % 86400 === 0) return seconds / 86400 === 1 ? '1 day' : seconds / 86400 + ' days'
    if (seconds % 3600 === 0) return seconds / 3600 === 1 ? '1 hour' : seconds / 3600 + ' hours'
    const minutes = Math.max(1, Math.round(seconds / 60))
    return minutes === 1 ? '1 minute' : minutes + ' minutes'
  }

  const encodePath = (path) => path.split('/').map(encodeURIComponent).join('/')

  function extensionOf (name) {
    const dot = name.lastIndexOf('.')
    return dot > 0 ? name.slice(dot + 1).toLowerCase() : ''
  }

  const ICONS = [
    [/^(png|jpe?g|gif|webp|avif|bmp|ico|svg|heic|tiff?)$/, 'i-image'],
    [/^(mp4|webm|mov|mkv|avi|m4v|ogv)$/, 'i-video'],
    [/^(mp3|wav|ogg|oga|flac|aac|m4a|opus)$/, 'i-audio'],
    [/^pdf$/, 'i-pdf'],
    [/^(zip|gz|tgz|bz2|xz|7z|rar|tar|zst)$/, 'i-archive'],
    [/^(csv|tsv|xls|xlsx|ods|numbers)$/, 'i-sheet'],
    [/^(doc|docx|odt|rtf|pages|ppt|pptx|odp|key|epub)$/, 'i-doc'],
    [/^(js|mjs|cjs|ts|tsx|jsx|json|py|rb|go|rs|java|kt|c|h|cc|cpp|hpp|cs|php|sh|sql|ya?ml|toml|xml|html?|css|scss|vue|svelte|swift|lua|ini|env)$/, 'i-code'],
    [/^(txt|md|markdown|log|rst)$/, 'i-text']
  ]
  function iconFor (name) {
    const ext = extensionOf(name)
    const match = ICONS.find(([re]) => re.test(ext))
    return match ? match[1] : 'i-file'
  }

  // Screen-reader announcements (search results, finished uploads) without moving focus.
  let announcer
  function announce (text) {
    if (!announcer) {
      announcer = h('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' })
      document.body.append(announcer)
    }
    announcer.textContent = ''
    setTimeout(() => { announcer.textContent = text }, 50)
  }

  function toast (message, kind) {
    const region = $('[data-toasts]')
    if (!region) return
    const node = h('div', { class: 'toast' + (kind === 'error' ? ' is-error' : '') }, icon(kind === 'error' ? 'i-alert' : 'i-check'), h('span', { text: message }))
    region.append(node)
    setTimeout(() => node.remove(), kind === 'error' ? 6000 : 3500)
  }

  // Dates in the reader's locale and time zone (the server writes UTC); the compact phone line gets the day only.
  function localizeDates (scope) {
    let full, day
    try {
      full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
      day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' })
    } catch {
      return
    }
    for (const time of $$('time[datetime]', scope)) {
      const date = new Date(time.getAttribute('datetime'))
      if (Number.isNaN(date.getTime())) continue
      time.textContent = (time.closest('.entry-meta') ? day : full).format(date)
      time.title = full.format(date)
    }
  }

  /** A JSON request the CSRF rule accepts (scripts send X-Requested-With). */
  async function api (method, url, body) {
    const headers = { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let response
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' })
    } catch {
      return { status: 0, body: {} }
    }
    let data = {}
    try {
      data = await response.json()
    } catch {}
    return { status: response.status, body: data || {} }
  }

  // ---------- the folder page ----------

  let cfg
  let listing
  let selection

  function readConfig (app) {
    const d = app.dataset
    return {
      namespace: d.namespace,
      baseUrl: d.baseUrl,
      folderUrl: d.folderUrl,
      path: d.path,
      folderName: d.folderName,
      uploadMode: d.uploadMode,
      allowed: d.allowed ? d.allowed.split(',') : [],
      maxBytes: Number(d.maxBytes),
      maxText: d.maxText,
      overwrite: d.overwrite === 'true',
      mkdirUrl: d.mkdirUrl,
      presignUrl: d.presignUrl,
      confirmUrl: d.confirmUrl,
      linkUrl: d.linkUrl,
      versionsUrl: d.versionsUrl,
      deletedUrl: d.deletedUrl,
      multipartUrl: d.multipartUrl,
      multipartThreshold: Number(d.multipartThreshold),
      zipUrl: d.zipUrl,
      moveUrl: d.moveUrl,
      copyUrl: d.copyUrl,
      deleteUrl: d.deleteUrl
    }
  }

  const fileUrl = (path) => cfg.baseUrl + '/files/' + encodePath(path)

  function rows () {
    return $$('tbody tr.row', listing)
  }

  // The listing is re-rendered by the server (its templates, overrides included) and swapped in.
  let listingRequest
  // fresh: after a change the listing cache may not know of yet (a presigned upload goes straight to S3).
  async function loadListing (url, { replaceUrl, fresh } = {}) {
    if (listingRequest) listingRequest.abort()
    const controller = new AbortController()
    listingRequest = controller
    listing.classList.add('is-loading')
    listing.setAttribute('aria-busy', 'true')
    try {
      // X-Requested-With: a lapsed sign-in answers 401 here instead of redirecting this fetch to the provider.
      const headers = fresh ? { Accept: 'text/html', 'Cache-Control': 'no-cache', 'X-Requested-With': 'XMLHttpRequest' } : { Accept: 'text/html', 'X-Requested-With': 'XMLHttpRequest' }
      const response = await fetch(url, { headers, credentials: 'same-origin', signal: controller.signal })
      const doc = new DOMParser().parseFromString(await response.text(), 'text/html')
      const next = doc.querySelector('[data-listing]')
      if (!response.ok || !next) {
        toast(response.status === 401 ? 'You are signed out. Sign in again to see this folder.' : 'Could not load the folder. Check your connection and try again.', 'error')
        return false
      }
      listing.replaceChildren(...Array.from(next.childNodes, (node) => document.importNode(node, true)))
      localizeDates(listing)
      refreshQuota(doc)
      if (selection) selection.listingChanged()
      if (doc.title) document.title = doc.title
      if (replaceUrl) history.replaceState(null, '', url)
      return true
    } catch (err) {
      if (err && err.name === 'AbortError') return false
      toast('Could not load the folder. Check your connection and try again.', 'error')
      return false
    } finally {
      if (listingRequest === controller) {
        listingRequest = undefined
        listing.classList.remove('is-loading')
        listing.removeAttribute('aria-busy')
      }
    }
  }

  let refreshTimer
  function refreshSoon () {
    clearTimeout(refreshTimer)
    refreshTimer = setTimeout(() => loadListing(location.href, { fresh: true }), 250)
  }

  // ---------- search ----------

  function initSearch () {
    const form = $('[data-search-form]')
    const input = $('[data-search-input]')
    if (!form || !input) return
    let timer
    const run = async () => {
      clearTimeout(timer)
      const q = input.value.trim()
      const params = new URLSearchParams(location.search)
      params.delete('cursor')
      params.delete('trail')
      params.delete('page')
      if (q === '') params.delete('q')
      else params.set('q', q)
      const query = params.toString()
      form.classList.add('is-busy')
      const ok = await loadListing(cfg.folderUrl + (query ? '?' + query : ''), { replaceUrl: true })
      form.classList.remove('is-busy')
      if (ok && q !== '') {
        const count = $('[data-result-count]', listing)
        if (count) announce(count.textContent)
      }
    }
    input.addEventListener('input', () => {
      clearTimeout(timer)
      timer = setTimeout(run, 250)
    })
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      run()
    })
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && input.value !== '') {
        event.preventDefault()
        input.value = ''
        run()
      }
    })
    // "/" jumps to the search box, as on most file sites.
    document.addEventListener('keydown', (event) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return
      const target = event.target
      if (target.closest('input, textarea, select, [contenteditable], dialog')) return
      event.preventDefault()
      input.focus()
      input.select()
    })
    listing.addEventListener('click', (event) => {
      const clear = event.target.closest('[data-clear-search]')
      if (!clear || event.button !== 0 || event.ctrlKey || event.metaKey) return
      event.preventDefault()
      input.value = ''
      run()
      input.focus()
    })
  }

  // ---------- sorting (this page's rows, in place; the server sorts the same way on reload) ----------

  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

  function initSort () {
    listing.addEventListener('click', (event) => {
      const link = event.target.closest('[data-sort]')
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return
      event.preventDefault()
      const params = new URLSearchParams(location.search)
      const by = link.dataset.sort
      const current = params.get('sort') || 'name'
      const order = current === by && (params.get('order') || 'asc') === 'asc' ? 'desc' : 'asc'
      if (by === 'name') params.delete('sort')
      else params.set('sort', by)
      if (order === 'asc') params.delete('order')
      else params.set('order', order)
      sortRows(by, order)
      history.replaceState(null, '', cfg.folderUrl + (params.toString() ? '?' + params : ''))
      announce('Sorted by ' + link.textContent.trim().toLowerCase() + (order === 'asc' ? ', ascending' : ', descending'))
    })
  }

  function sortRows (by, order) {
    const body = $('tbody', listing)
    if (!body) return
    const sign = order === 'desc' ? -1 : 1
    const value = (row) => by === 'size' ? Number(row.dataset.size) : by === 'date' ? row.dataset.date : row.dataset.name
    const compare = (a, b) => {
      const folders = (a.dataset.kind === 'folder') - (b.dataset.kind === 'folder')
      if (folders !== 0) return -folders
      const byName = collator.compare(a.dataset.name, b.dataset.name)
      // Folders have no size: they keep ascending name order when sorting by size (as the server does).
      if (by === 'size' && a.dataset.kind === 'folder') return byName
      if (by === 'name') return sign * byName
      const x = value(a)
      const y = value(b)
      const diff = by === 'size' ? x - y : String(x).localeCompare(String(y))
      return sign * (diff || byName)
    }
    body.append(...rows().sort(compare))
    for (const th of $$('thead th', listing)) {
      const link = $('[data-sort]', th)
      if (!link) continue
      const active = link.dataset.sort === by
      link.classList.toggle('active', active)
      if (active) th.setAttribute('aria-sort', order === 'asc' ? 'ascending' : 'descending')
      else th.removeAttribute('aria-sort')
      const use = $('use', link)
      if (use) use.setAttribute('href', active && order === 'desc' ? '#i-arrow-down' : '#i-arrow-up')
    }
  }

  // ---------- dialogs ----------

  function confirmAction ({ title, text, ok }) {
    const dialog = $('#confirm-dialog')
    $('#confirm-title').textContent = title
    $('#confirm-text').textContent = text
    $('[data-confirm-ok]', dialog).textContent = ok
    dialog.returnValue = ''
    dialog.showModal()
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true })
    })
  }

  async function deleteEntry (row) {
    const folder = row.dataset.kind === 'folder'
    const name = row.dataset.name
    // On a versioned bucket a delete only hides the file: say how it comes back.
    const kept = Boolean(cfg.versionsUrl)
    const confirmed = await confirmAction({
      title: folder ? 'Delete this folder?' : 'Delete this file?',
      text: folder
        ? `“${name}” and everything inside it will be deleted for everyone.` + (kept ? ' Their versions are kept: “Show deleted files” here brings them back.' : ' This cannot be undone.')
        : `“${name}” will be deleted for everyone.` + (kept ? ' Its versions are kept: “Show deleted files” brings it back.' : ' This cannot be undone.'),
      ok: folder ? 'Delete folder' : 'Delete'
    })
    if (!confirmed) return
    row.classList.add('is-removing')
    const { status, body } = await api('DELETE', fileUrl(row.dataset.path) + (folder ? '?recursive=1' : ''))
    if (status >= 200 && status < 300) {
      const next = row.nextElementSibling || row.previousElementSibling
      row.remove()
      toast(`Deleted “${name}”`)
      const focusTarget = next && $('a.entry', next)
      if (focusTarget) focusTarget.focus()
      else $('#main').focus()
      refreshSoon()
      return
    }
    row.classList.remove('is-removing')
    if (status === 404) {
      toast(`“${name}” was already gone.`, 'error')
      refreshSoon()
    } else if (status === 403 && body.code !== 'FST_S3S_CSRF') {
      toast(`You do not have permission to delete “${name}”.`, 'error')
    } else if (status === 401) {
      toast('You are signed out. Sign in again, then retry.', 'error')
    } else {
      toast(body.message ? `Could not delete “${name}”: ${body.message}` : `Could not delete “${name}”. Try again.`, 'error')
    }
  }

  let shareTarget
  async function fetchShareLink () {
    const dialog = $('#share-dialog')
    const input = $('[data-share-url]', dialog)
    const status = $('[data-share-status]', dialog)
    const minutes = $('[data-share-expiry]', dialog).value
    input.value = ''
    input.placeholder = 'Creating link…'
    status.classList.remove('is-error')
    status.textContent = ''
    const target = shareTarget
    const { status: code, body } = await api('GET', cfg.linkUrl + encodePath(target.path) + '?minutes=' + encodeURIComponent(minutes))
    if (target !== shareTarget) return
    if (code !== 200 || !body.url) {
      status.classList.add('is-error')
      status.textContent = code === 403 ? 'You do not have permission to share this file.' : code === 404 ? 'This file no longer exists.' : 'Could not create a link. Try again.'
      input.placeholder = ''
      return
    }
    input.value = body.url
    await copyShareLink(body.expiresIn)
  }

  async function copyShareLink (expiresIn) {
    const dialog = $('#share-dialog')
    const input = $('[data-share-url]', dialog)
    const status = $('[data-share-status]', dialog)
    const lifetime = expiresIn ? ` It works for ${formatDuration(expiresIn)}.` : ''
    if (expiresIn) dialog.dataset.expiresIn = expiresIn
    try {
      await navigator.clipboard.writeText(input.value)
      status.textContent = 'Link copied to the clipboard.' + lifetime
    } catch {
      input.focus()
      input.select()
      status.textContent = 'Press Ctrl+C (⌘C) to copy the selected link.' + lifetime
    }
  }

  function openShare (row) {
    const dialog = $('#share-dialog')
    shareTarget = { path: row.dataset.path, name: row.dataset.name }
    $('[data-share-name]', dialog).textContent = row.dataset.name
    if (!dialog.open) dialog.showModal()
    fetchShareLink()
  }

  function initShare () {
    const dialog = $('#share-dialog')
    if (!dialog) return
    $('[data-share-expiry]', dialog).addEventListener('change', fetchShareLink)
    $('[data-share-copy]', dialog).addEventListener('click', () => {
      if ($('[data-share-url]', dialog).value) copyShareLink(Number(dialog.dataset.expiresIn) || 0)
    })
  }

  // ---------- preview ----------

  const TEXT_PREVIEW_BYTES = 256 * 1024
  let previewRow
  let previewRequest

  function previewRows () {
    return rows().filter((row) => row.dataset.preview)
  }

  function previewFallback (row, message) {
    return h('div', { class: 'preview-fallback' },
      icon(iconFor(row.dataset.name)),
      h('p', { text: message }),
      h('a', { class: 'btn btn-primary', href: row.dataset.download, download: '' }, icon('i-download'), 'Download')
    )
  }

  async function showText (row, stage) {
    const controller = new AbortController()
    previewRequest = controller
    stage.replaceChildren(h('div', { class: 'spinner', role: 'img', 'aria-label': 'Loading' }))
    try {
      const response = await fetch(row.dataset.url, { headers: { Range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` }, credentials: 'same-origin', signal: controller.signal })
      if (!response.ok) throw new Error(String(response.status))
      const bytes = new Uint8Array(await response.arrayBuffer())
      const sample = bytes.subarray(0, 8192)
      if (sample.includes(0)) {
        stage.replaceChildren(previewFallback(row, 'This file does not look like text, so it cannot be shown here.'))
        return
      }
      const text = new TextDecoder('utf-8').decode(bytes)
      const total = Number(row.dataset.size)
      const children = [h('pre', { class: 'preview-text', tabindex: '0', 'aria-label': 'Contents of ' + row.dataset.name, text })]
      if (total > bytes.length) children.push(h('p', { class: 'preview-note', text: `Showing the first ${formatSize(bytes.length)} of ${formatSize(total)}. Download the file to see all of it.` }))
      stage.replaceChildren(h('div', { class: 'preview-text-wrap' }, ...children))
    } catch (err) {
      if (err && err.name === 'AbortError') return
      stage.replaceChildren(previewFallback(row, 'The preview could not be loaded. You can still download the file.'))
    }
  }

  function renderPreview (row) {
    const dialog = $('#preview-dialog')
    const stage = $('[data-preview-stage]', dialog)
    if (previewRequest) previewRequest.abort()
    previewRow = row
    const name = row.dataset.name
    const url = row.dataset.url
    $('[data-preview-title]', dialog).textContent = name
    $('[data-preview-meta]', dialog).textContent = [formatSize(Number(row.dataset.size)), row.dataset.type].join(' · ')
    $('[data-preview-download]', dialog).href = row.dataset.download
    const kind = row.dataset.preview
    if (kind === 'image') {
      const img = h('img', { src: url, alt: name })
      img.addEventListener('error', () => stage.replaceChildren(previewFallback(row, 'This image could not be shown.')), { once: true })
      stage.replaceChildren(img)
    } else if (kind === 'video') {
      // The download route answers Range requests, so the player can seek without fetching everything.
      stage.replaceChildren(h('video', { src: url, controls: true, preload: 'metadata', playsinline: true, 'aria-label': name }))
    } else if (kind === 'audio') {
      stage.replaceChildren(h('audio', { src: url, controls: true, preload: 'metadata', 'aria-label': name }))
    } else if (kind === 'pdf') {
      stage.replaceChildren(h('iframe', { src: url, title: 'PDF: ' + name }))
    } else {
      showText(row, stage)
    }
    const all = previewRows()
    const index = all.indexOf(row)
    $('[data-preview-prev]', dialog).hidden = index <= 0
    $('[data-preview-next]', dialog).hidden = index === -1 || index >= all.length - 1
  }

  function openPreview (row) {
    const dialog = $('#preview-dialog')
    renderPreview(row)
    if (!dialog.open) dialog.showModal()
  }

  function stepPreview (delta) {
    const all = previewRows()
    const next = all[all.indexOf(previewRow) + delta]
    if (next) renderPreview(next)
  }

  function initPreview () {
    const dialog = $('#preview-dialog')
    if (!dialog) return
    $('[data-preview-close]', dialog).addEventListener('click', () => dialog.close())
    $('[data-preview-prev]', dialog).addEventListener('click', () => stepPreview(-1))
    $('[data-preview-next]', dialog).addEventListener('click', () => stepPreview(1))
    $('[data-preview-share]', dialog).addEventListener('click', () => {
      if (!previewRow) return
      dialog.close()
      openShare(previewRow)
    })
    dialog.addEventListener('keydown', (event) => {
      if (event.target.closest('video, audio, select, input')) return
      if (event.key === 'ArrowLeft') stepPreview(-1)
      else if (event.key === 'ArrowRight') stepPreview(1)
    })
    // A click on the backdrop closes the preview.
    dialog.addEventListener('click', (event) => {
      if (event.target === dialog) dialog.close()
    })
    dialog.addEventListener('close', () => {
      if (previewRequest) previewRequest.abort()
      // Empties the stage, which stops any playing media.
      $('[data-preview-stage]', dialog).replaceChildren()
      const link = previewRow && previewRow.isConnected && $('a.entry', previewRow)
      if (link) link.focus()
    })
  }

  // ---------- new folder ----------

  function initMkdir () {
    const details = $('[data-mkdir]')
    const form = $('[data-mkdir-form]')
    if (!details || !form) return
    const input = $('input[name="name"]', form)
    const error = $('[data-mkdir-error]', form)
    details.addEventListener('toggle', () => {
      if (details.open) {
        error.hidden = true
        input.focus()
      }
    })
    details.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && details.open) {
        details.open = false
        $('summary', details).focus()
      }
    })
    document.addEventListener('click', (event) => {
      if (details.open && !details.contains(event.target)) details.open = false
    })
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      const name = input.value.trim()
      if (name === '') return
      const { status, body } = await api('POST', cfg.mkdirUrl, { path: cfg.path, name })
      if (status === 201 || status === 200) {
        details.open = false
        input.value = ''
        toast(`Created the folder “${name}”`)
        refreshSoon()
        return
      }
      error.hidden = false
      error.textContent = status === 400
        ? 'That name cannot be used. Avoid “/”, “\\”, “.”, “..” and control characters.'
        : status === 403
          ? 'You do not have permission to create folders here.'
          : status === 401
            ? 'You are signed out. Sign in again, then retry.'
            : (body.message || 'The folder could not be created. Try again.')
      input.focus()
    })
  }

  // ---------- uploads ----------

  const MAX_PARALLEL = 3
  const uploads = []
  let uploadId = 0
  let multipart

  // Large files in presign mode go to assets/multipart.js (absent when a host's layout does not load it).
  function initMultipart () {
    const module = window.fastifyS3StorageMultipart
    if (!module || !cfg.multipartUrl) return
    multipart = module.createMultipart({ cfg, api, h, setState, setProgress, fail, succeed, finished, dismiss, pump, announce, formatSize })
  }

  function uploadFailure (status, code, message, name, replacing) {
    const ext = extensionOf(name)
    if (code === 'FST_S3S_TYPE_NOT_ALLOWED') {
      return (ext ? `“.${ext}” files` : 'Files without an extension') + ' are not accepted here.' +
        (cfg.allowed.length ? ' Allowed: ' + cfg.allowed.map((e) => '.' + e).join(', ') + '.' : '')
    }
    if (code === 'FST_S3S_QUOTA_EXCEEDED') return 'Not enough space left: ' + (message ? message.replace(/^Over quota: /, '') : 'this folder\u2019s quota is used up.')
    if (status === 401) return 'You are signed out. Sign in again, then retry.'
    if (status === 403 && code === 'FST_S3S_CSRF') return 'This page is out of date. Reload it, then retry.'
    if (status === 403 && replacing) return `You do not have permission to replace “${name}”.`
    if (status === 403) return 'You do not have permission to upload here.'
    if (status === 412 && replacing) return `Someone else changed or removed “${name}” after you chose to replace it, so nothing was overwritten. Retry to see what is there now.`
    // Without a replace, 412 is the If-None-Match race: the name was taken while this file was on its way.
    if (status === 412) return `Someone else saved a file named “${name}” here just now, so nothing was overwritten. Retry to choose what to do.`
    if (code === 'FST_S3S_WRITE_CONFLICT') return `Someone else was saving “${name}” at the same moment, so nothing was overwritten. Retry in a moment.`
    if (status === 409) return `A file named “${name}” is already here.`
    if (status === 413) return `Too large: this folder accepts files up to ${cfg.maxText}.`
    if (status === 400) return message ? message.replace(/^Bad request: |^Invalid key: /, 'Not accepted: ') : 'The server refused this file name.'
    if (code === 'S3_UNREACHABLE') return 'The storage server could not be reached from this page. If this keeps happening, its CORS settings may need to allow this site.'
    if (status === 0) return 'The connection was lost. Check your network, then retry.'
    return 'The server could not store this file. Retry in a moment.'
  }

  /** The same rules the server applies, checked before a byte is sent. */
  function precheck (item) {
    const ext = extensionOf(item.name)
    if (cfg.allowed.length > 0 && !cfg.allowed.includes(ext)) return { status: 415, code: 'FST_S3S_TYPE_NOT_ALLOWED' }
    if (item.file.size > cfg.maxBytes) return { status: 413, code: 'FST_S3S_TOO_LARGE' }
    return quotaRefuses(item)
  }

  function addUploads (entries) {
    if (entries.length === 0) return
    const panel = $('#uploads')
    panel.hidden = false
    for (const { file, dir } of entries) {
      const item = { id: ++uploadId, file, dir: dir || '', name: file.name.normalize('NFC'), state: 'queued', loaded: 0 }
      item.el = renderUpload(item)
      $('[data-upload-list]', panel).append(item.el.root)
      uploads.push(item)
      const refused = precheck(item)
      if (refused) fail(item, refused.status, refused.code)
    }
    pump()
    summarize()
  }

  function renderUpload (item) {
    const label = item.dir + item.name
    const progress = h('progress', { class: 'upload-progress', max: '100', value: '0', 'aria-label': 'Upload of ' + label })
    const message = h('span', { class: 'upload-message', text: 'Waiting…' })
    const bytes = h('span', { class: 'upload-bytes', text: `0 B of ${formatSize(item.file.size)} · 0%` })
    const actions = h('div', { class: 'upload-actions' })
    const rootEl = h('li', { class: 'upload-item', 'data-upload-item': '' },
      h('span', { class: 'badge k-' + iconFor(item.name) }, icon(iconFor(item.name))),
      h('div', { class: 'upload-main' },
        h('span', { class: 'upload-name', title: label, text: label }),
        progress,
        h('div', { class: 'upload-status' }, message, bytes)
      ),
      actions
    )
    const el = { root: rootEl, progress, message, bytes, actions }
    setActions(item, el)
    return el
  }

  function setActions (item, el = item.el) {
    // A multipart upload (assets/multipart.js) adds pause, resume and "resume an earlier upload".
    const buttons = multipart && item.multipart ? multipart.actions(item) : []
    if (item.state === 'queued' || item.state === 'uploading') {
      buttons.push(h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Cancel the upload of ' + item.name, title: 'Cancel', onclick: () => cancel(item) }, icon('i-x')))
    } else if (item.state === 'error' && item.status === 409 && item.code !== 'FST_S3S_WRITE_CONFLICT') {
      buttons.push(h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => keepBoth(item) }, 'Keep both'))
      if (!cfg.overwrite && item.etag) buttons.push(h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => replace(item) }, 'Replace'))
    } else if (item.state === 'error' && (item.status === 412 || item.code === 'FST_S3S_WRITE_CONFLICT')) {
      buttons.push(h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => keepBoth(item) }, 'Keep both'))
      buttons.push(h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Retry the upload of ' + item.name, title: 'Retry', onclick: () => retry(item) }, icon('i-retry')))
    } else if ((item.state === 'error' && (item.status === 0 || item.status >= 500 || item.status === 401)) || item.state === 'canceled') {
      buttons.push(h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Retry the upload of ' + item.name, title: 'Retry', onclick: () => retry(item) }, icon('i-retry')))
    }
    if (item.state === 'done' || item.state === 'error' || item.state === 'canceled') {
      buttons.push(h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Remove ' + item.name + ' from the list', title: 'Remove from the list', onclick: () => dismiss(item) }, icon('i-x')))
    }
    el.actions.replaceChildren(...buttons)
  }

  function setProgress (item, loaded, total) {
    item.loaded = loaded
    const percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 100
    item.el.progress.value = percent
    item.el.bytes.textContent = `${formatSize(loaded)} of ${formatSize(total)} · ${percent}%`
    summarize()
  }

  function setState (item, state, text) {
    item.state = state
    item.el.root.dataset.state = state
    item.el.root.classList.toggle('is-done', state === 'done')
    item.el.root.classList.toggle('is-error', state === 'error')
    item.el.root.classList.toggle('is-canceled', state === 'canceled')
    item.el.message.textContent = text
    setActions(item)
    summarize()
  }

  function fail (item, status, code, message, etag) {
    const replacing = Boolean(item.ifMatch)
    item.status = status
    item.code = code
    // A 409 names the content that is there: Replace overwrites exactly that, or nothing.
    item.etag = status === 409 ? etag : undefined
    item.ifMatch = undefined
    item.el.bytes.textContent = formatSize(item.file.size)
    setState(item, 'error', uploadFailure(status, code, message, item.name, replacing))
    announce(`${item.name} was not uploaded: ${item.el.message.textContent}`)
  }

  function succeed (item) {
    const replaced = Boolean(item.ifMatch)
    item.ifMatch = undefined
    setProgress(item, item.file.size, item.file.size)
    setState(item, 'done', replaced ? 'Replaced' : 'Uploaded')
    announce(`${item.name} uploaded`)
    refreshSoon()
  }

  function pump () {
    let active = uploads.filter((u) => u.state === 'uploading').length
    for (const item of uploads) {
      if (active >= MAX_PARALLEL) break
      if (item.state !== 'queued') continue
      active++
      start(item)
    }
  }

  function finished (item) {
    item.xhr = undefined
    pump()
  }

  function start (item) {
    setState(item, 'uploading', item.ifMatch ? 'Replacing…' : 'Uploading…')
    setProgress(item, 0, item.file.size)
    // A replace goes through the app in either mode: a presigned POST cannot carry a condition.
    if (multipart && multipart.handles(item)) multipart.start(item)
    else if (cfg.uploadMode === 'presign' && !item.ifMatch) startPresigned(item)
    else startStreamed(item)
  }

  function track (item, xhr, direct) {
    item.xhr = xhr
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) setProgress(item, Math.min(item.file.size, Math.round(item.file.size * (event.loaded / event.total))), item.file.size)
    })
    xhr.addEventListener('abort', () => {
      if (item.state === 'uploading') setState(item, 'canceled', 'Canceled')
      finished(item)
    })
    xhr.addEventListener('error', () => {
      fail(item, 0, direct ? 'S3_UNREACHABLE' : undefined)
      finished(item)
    })
  }

  // Through the app: one multipart POST per file to the folder URL (sub-folders of a dropped folder too).
  function startStreamed (item) {
    const xhr = new XMLHttpRequest()
    track(item, xhr)
    xhr.addEventListener('load', () => {
      let outcome = {}
      try {
        const body = JSON.parse(xhr.responseText)
        outcome = (body.files && body.files[0]) || body
      } catch {}
      const status = outcome.statusCode || xhr.status
      if (status >= 200 && status < 300) succeed(item)
      else fail(item, status, outcome.code, outcome.message, outcome.etag)
      finished(item)
    })
    xhr.open('POST', cfg.folderUrl + encodePath(item.dir))
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest')
    xhr.setRequestHeader('Accept', 'application/json')
    const form = new FormData()
    // The field comes first: it applies to the file part that follows it.
    if (item.ifMatch) form.append('ifMatch', item.ifMatch)
    form.append('file', item.file, item.name)
    xhr.send(form)
  }

  // Straight to S3: the app signs a POST policy for the file, the browser posts the form to the bucket.
  async function startPresigned (item) {
    const { status, body } = await api('POST', cfg.presignUrl, {
      path: cfg.path + item.dir,
      files: [{ name: item.name, size: item.file.size, type: item.file.type || undefined }]
    })
    if (item.state !== 'uploading') return finished(item)
    const outcome = (body.files && body.files[0]) || body
    if (status !== 200 || !outcome.post) {
      fail(item, outcome.statusCode || status, outcome.code, outcome.message, outcome.etag)
      return finished(item)
    }
    const xhr = new XMLHttpRequest()
    track(item, xhr, true)
    xhr.addEventListener('load', async () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        // The server checks the stored file again (size, quota) and may still refuse it.
        const confirmed = await confirmPresigned(item, outcome.path)
        if (confirmed.status < 300) succeed(item)
        else fail(item, confirmed.status, confirmed.body.code, confirmed.body.message)
      } else {
        const code = /<Code>([^<]+)<\/Code>/.exec(xhr.responseText || '')
        const s3code = code ? code[1] : ''
        fail(item, s3code === 'EntityTooLarge' ? 413 : s3code === 'AccessDenied' ? 403 : xhr.status >= 500 ? 502 : xhr.status)
      }
      finished(item)
    })
    xhr.open('POST', outcome.post.url)
    const form = new FormData()
    for (const [key, value] of Object.entries(outcome.post.fields)) form.append(key, value)
    form.append('file', item.file, item.name)
    xhr.send(form)
  }

  function cancel (item) {
    if (multipart && item.multipart) multipart.cancel(item)
    else if (item.xhr) item.xhr.abort()
    else if (item.state === 'queued' || item.state === 'uploading') setState(item, 'canceled', 'Canceled')
  }

  function retry (item) {
    item.status = undefined
    item.ifMatch = undefined
    setProgress(item, 0, item.file.size)
    setState(item, 'queued', 'Waiting…')
    pump()
  }

  function dismiss (item) {
    uploads.splice(uploads.indexOf(item), 1)
    item.el.root.remove()
    if (uploads.length === 0) $('#uploads').hidden = true
    summarize()
  }

  // "Keep both": the next free "name (n).ext" among what this page shows; the server still has the last word.
  function keepBoth (item) {
    const taken = new Set(rows().map((row) => row.dataset.name))
    taken.add(item.name)
    const dot = item.name.lastIndexOf('.')
    const stem = dot > 0 ? item.name.slice(0, dot) : item.name
    const ext = dot > 0 ? item.name.slice(dot) : ''
    let n = 1
    while (taken.has(`${stem} (${n})${ext}`)) n++
    item.name = `${stem} (${n})${ext}`
    item.el.root.querySelector('.upload-name').textContent = item.dir + item.name
    retry(item)
  }

  // "Replace": one conditional overwrite of exactly the file the 409 reported (If-Match on its ETag). If
  // someone else changed it meanwhile, the store refuses (412) and their file is not lost.
  function replace (item) {
    item.ifMatch = item.etag
    item.status = undefined
    setProgress(item, 0, item.file.size)
    setState(item, 'queued', 'Waiting…')
    pump()
  }

  function summarize () {
    const summary = $('[data-upload-summary]')
    if (!summary) return
    const count = (state) => uploads.filter((u) => u.state === state).length
    const active = count('uploading') + count('queued')
    const done = count('done')
    const failed = count('error')
    if (active > 0) {
      const total = uploads.filter((u) => u.state === 'uploading' || u.state === 'queued').reduce((sum, u) => sum + u.file.size, 0)
      const sent = uploads.filter((u) => u.state === 'uploading').reduce((sum, u) => sum + u.loaded, 0)
      summary.textContent = `Uploading ${active} ${active === 1 ? 'file' : 'files'} · ${formatSize(sent)} of ${formatSize(total)}`
    } else {
      summary.textContent = [done > 0 ? `${done} uploaded` : '', failed > 0 ? `${failed} failed` : ''].filter(Boolean).join(', ')
    }
  }

  // Files from a drop: folders are walked (where the browser exposes them), keeping their relative paths.
  async function filesFromDrop (dataTransfer) {
    const entries = []
    const plain = []
    // Entries must be taken synchronously: the DataTransfer is emptied once the event handler returns.
    for (const item of Array.from(dataTransfer.items || [])) {
      if (item.kind !== 'file') continue
      const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null
      if (entry) entries.push(entry)
      else {
        const file = item.getAsFile()
        if (file) plain.push({ file, dir: '' })
      }
    }
    if (entries.length === 0 && plain.length === 0) {
      return Array.from(dataTransfer.files || [], (file) => ({ file, dir: '' }))
    }
    const out = [...plain]
    const walk = async (entry, dir) => {
      if (entry.isFile) {
        const file = await new Promise((resolve, reject) => entry.file(resolve, reject)).catch(() => null)
        if (file) out.push({ file, dir })
      } else if (entry.isDirectory) {
        const reader = entry.createReader()
        let batch
        do {
          batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject)).catch(() => [])
          for (const child of batch) await walk(child, dir + entry.name + '/')
        } while (batch.length > 0)
      }
    }
    for (const entry of entries) await walk(entry, '')
    return out
  }

  function initUploads () {
    const fileInput = $('[data-file-input]')
    const dirInput = $('[data-dir-input]')
    const form = $('[data-upload-form]')
    const overlay = $('[data-drop-overlay]')
    if (!fileInput || !form) return
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      addUploads(Array.from(fileInput.files, (file) => ({ file, dir: '' })))
      fileInput.value = ''
    })
    fileInput.addEventListener('change', () => {
      addUploads(Array.from(fileInput.files, (file) => ({ file, dir: '' })))
      fileInput.value = ''
    })
    if (dirInput) {
      dirInput.addEventListener('change', () => {
        addUploads(Array.from(dirInput.files, (file) => {
          const relative = file.webkitRelativePath || file.name
          return { file, dir: relative.slice(0, relative.length - file.name.length) }
        }))
        dirInput.value = ''
      })
    }
    listing.addEventListener('click', (event) => {
      if (event.target.closest('[data-pick-files]')) fileInput.click()
      else if (event.target.closest('[data-pick-folder]') && dirInput) dirInput.click()
    })
    $('[data-clear-uploads]').addEventListener('click', () => {
      for (const item of uploads.filter((u) => u.state === 'done' || u.state === 'canceled')) dismiss(item)
    })

    // Drag and drop anywhere on the page; the overlay says where the files will go.
    let depth = 0
    const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files')
    const highlight = (on) => {
      overlay.hidden = !on
      for (const zone of $$('[data-dropzone]')) zone.classList.toggle('is-over', on)
    }
    document.addEventListener('dragenter', (event) => {
      if (!hasFiles(event)) return
      event.preventDefault()
      depth++
      highlight(true)
    })
    document.addEventListener('dragover', (event) => {
      if (!hasFiles(event)) return
      event.preventDefault()
      event.dataTransfer.dropEffect = 'copy'
    })
    document.addEventListener('dragleave', (event) => {
      if (!hasFiles(event)) return
      depth = Math.max(0, depth - 1)
      if (depth === 0) highlight(false)
    })
    document.addEventListener('drop', async (event) => {
      if (!event.dataTransfer) return
      event.preventDefault()
      depth = 0
      highlight(false)
      addUploads(await filesFromDrop(event.dataTransfer))
    })
    window.addEventListener('beforeunload', (event) => {
      if (uploads.some((u) => u.state === 'uploading' || u.state === 'queued')) {
        event.preventDefault()
        event.returnValue = ''
      }
    })
  }

  // ---------- quota ----------

  // What the usage bar says is free, less what this page has queued since it was drawn.
  let quota = { freeBytes: Infinity, freeFiles: Infinity, maxText: '' }

  function readQuota (el) {
    if (!el) return { freeBytes: Infinity, freeFiles: Infinity, maxText: '' }
    const free = (value) => value === '' || value === undefined ? Infinity : Number(value)
    return { freeBytes: free(el.dataset.freeBytes), freeFiles: free(el.dataset.freeFiles), maxText: el.dataset.maxText }
  }

  /** A file that cannot fit in what is left is refused before a byte is sent (the server decides anyway). */
  function quotaRefuses (item) {
    if (quota.freeFiles < 1) return { status: 413, code: 'FST_S3S_QUOTA_EXCEEDED', message: `no more files fit in ${cfg.folderName}'s quota.` }
    if (item.file.size > quota.freeBytes) {
      return { status: 413, code: 'FST_S3S_QUOTA_EXCEEDED', message: `${formatSize(item.file.size)} needed, ${formatSize(Math.max(0, quota.freeBytes))} left of ${quota.maxText}.` }
    }
    quota.freeBytes -= item.file.size
    quota.freeFiles -= 1
    return null
  }

  /** The usage bar of a freshly loaded listing replaces this one, and with it what is free. */
  function refreshQuota (doc) {
    const current = $('[data-quota]')
    const next = doc.querySelector('[data-quota]')
    if (!current || !next) return
    const fresh = document.importNode(next, true)
    current.replaceWith(fresh)
    quota = readQuota(fresh)
    const queued = uploads.filter((u) => u.state === 'queued' || u.state === 'uploading')
    for (const u of queued) {
      quota.freeBytes -= u.file.size
      quota.freeFiles -= 1
    }
  }

  /** Tells the server a presigned upload landed: `{ status, body }` of its answer. */
  async function confirmPresigned (item, path) {
    if (!cfg.confirmUrl || !path) return { status: 200, body: {} }
    return await api('POST', cfg.confirmUrl, { path })
  }

  function initQuota () {
    quota = readQuota($('[data-quota]'))
  }

  // ---------- versions (versioned buckets) ----------

  // The Versions panel and "Show deleted files" show the server's own version pages (its templates,
  // overrides included), swapped in; their forms still post without script.

  /** Fetches a page and returns one part of it, imported and with local dates. */
  async function fetchPart (url, selector) {
    let response
    try {
      response = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
    } catch {
      return { status: 0 }
    }
    const doc = new DOMParser().parseFromString(await response.text(), 'text/html')
    const part = doc.querySelector(selector)
    if (!response.ok || !part) {
      const message = doc.querySelector('.error-message')
      return { status: response.status, message: message ? message.textContent : '' }
    }
    const node = document.importNode(part, true)
    localizeDates(node)
    return { status: response.status, node }
  }

  function versionProblem (status, message, what) {
    if (status === 401) return 'You are signed out. Sign in again, then retry.'
    if (status === 403) return `You do not have permission to ${what}.`
    if (status === 404) return 'It is no longer there. It may have been deleted for good meanwhile.'
    if (status === 409 && message) return message.replace(/^(Already exists|Bucket versioning is not enabled): /, '')
    if (status === 0) return 'The connection was lost. Check your network, then retry.'
    return message ? `Could not ${what}: ${message}` : `Could not ${what}. Try again.`
  }

  let versionsPath

  async function openVersions (path, name) {
    const dialog = $('#versions-dialog')
    if (!dialog || !cfg.versionsUrl) return
    versionsPath = path
    $('[data-versions-name]', dialog).textContent = name
    if (!dialog.open) dialog.showModal()
    await loadVersions()
  }

  async function loadVersions () {
    const body = $('#versions-dialog [data-versions-body]')
    const path = versionsPath
    body.replaceChildren(h('div', { class: 'spinner', role: 'img', 'aria-label': 'Loading' }))
    const { status, node, message } = await fetchPart(cfg.versionsUrl + encodePath(path), '[data-versions]')
    if (path !== versionsPath) return
    body.replaceChildren(node || h('p', { class: 'panel-error', role: 'alert', text: versionProblem(status, message, 'show the versions') }))
  }

  async function loadDeleted () {
    const body = $('[data-deleted-body]')
    body.replaceChildren(h('div', { class: 'spinner', role: 'img', 'aria-label': 'Loading' }))
    const { status, node, message } = await fetchPart(cfg.deletedUrl, '[data-deleted-list]')
    body.replaceChildren(node || h('p', { class: 'panel-error', role: 'alert', text: versionProblem(status, message, 'list the deleted files') }))
  }

  function showDeleted (open) {
    const panel = $('#deleted')
    const toggle = $('[data-show-deleted]')
    if (!panel || !toggle) return
    panel.hidden = !open
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false')
    $('span', toggle).textContent = open ? 'Hide deleted files' : 'Show deleted files'
    if (open) loadDeleted()
  }

  // After a restore, an undelete or a deleted version: what shows it is loaded again.
  function versionsChanged () {
    if (!cfg) return location.reload()
    const dialog = $('#versions-dialog')
    if (dialog && dialog.open) loadVersions()
    const panel = $('#deleted')
    if (panel && !panel.hidden) loadDeleted()
    refreshSoon()
  }

  // "Show older versions" / "Show more": the next page's items join the lists they belong to.
  async function showMore (link, listSelector, itemSelectors) {
    const list = link.closest(listSelector)
    link.setAttribute('aria-disabled', 'true')
    const { status, node, message } = await fetchPart(link.href, listSelector)
    if (!node) {
      link.removeAttribute('aria-disabled')
      toast(versionProblem(status, message, 'load more'), 'error')
      return
    }
    for (const selector of itemSelectors) {
      const items = $(selector, list)
      const more = $(selector, node)
      if (items && more) items.append(...more.children)
      else if (more) link.closest('p').before(more)
    }
    const empty = $('[data-deleted-empty]', list)
    if (empty && !$('[data-deleted-empty]', node)) empty.remove()
    const next = link.closest('p')
    const nextMore = $('.versions-more', node)
    if (nextMore) next.replaceWith(nextMore)
    else next.remove()
  }

  async function onVersionSubmit (event) {
    const form = event.target.closest('[data-restore-form], [data-undelete-form]')
    if (!form) return
    event.preventDefault()
    const data = new FormData(form)
    const path = data.get('path')
    const name = path.split('/').pop()
    const restoring = form.matches('[data-restore-form]')
    const button = $('button', form)
    button.disabled = true
    const { status, body } = await api('POST', form.action, restoring ? { path, versionId: data.get('versionId') } : { path })
    button.disabled = false
    if (status >= 200 && status < 300) {
      toast(restoring ? `Restored that version of “${name}”: it is the current file now` : `“${name}” is back`)
      announce(restoring ? `${name} restored` : `${name} undeleted`)
      versionsChanged()
      return
    }
    toast(versionProblem(status, body.message, restoring ? `restore “${name}”` : `undelete “${name}”`), 'error')
  }

  async function deleteVersion (button) {
    const item = button.closest('[data-version-id]')
    const list = button.closest('[data-versions]')
    const name = list.dataset.name
    const marker = item.dataset.marker === 'true'
    const confirmed = await confirmAction({
      title: marker ? 'Remove this delete marker?' : 'Delete this version for good?',
      text: marker
        ? `The deletion of “${name}” recorded here will be removed${item.dataset.latest === 'true' ? ', which brings the file back' : ''}.`
        : `This version of “${name}” will be deleted permanently, for everyone. This cannot be undone.`,
      ok: marker ? 'Remove' : 'Delete version'
    })
    if (!confirmed) return
    item.classList.add('is-removing')
    const { status, body } = await api('DELETE', list.dataset.self + '?versionId=' + encodeURIComponent(item.dataset.versionId))
    if (status >= 200 && status < 300) {
      toast(marker ? `Removed a deletion of “${name}”` : `Deleted a version of “${name}” for good`)
      versionsChanged()
      return
    }
    item.classList.remove('is-removing')
    toast(versionProblem(status, body.message, 'delete this version'), 'error')
  }

  function onVersionClick (event) {
    const target = event.target
    const remove = target.closest('[data-version-delete]')
    if (remove) return deleteVersion(remove)
    const plain = event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey
    if (!plain) return
    const more = target.closest('[data-versions-more], [data-deleted-more]')
    if (more) {
      event.preventDefault()
      if (more.getAttribute('aria-disabled') !== 'true') {
        if (more.matches('[data-versions-more]')) showMore(more, '[data-versions]', ['[data-version-items]'])
        else showMore(more, '[data-deleted-list]', ['[data-deleted-folders]', '[data-deleted-items]'])
      }
      return
    }
    if (!cfg) return
    const open = target.closest('[data-action="versions"], [data-deleted-versions]')
    if (open) {
      const holder = open.closest('tr.row, [data-path]')
      event.preventDefault()
      openVersions(holder.dataset.path, holder.dataset.name)
      return
    }
    if (target.closest('[data-show-deleted]')) {
      event.preventDefault()
      showDeleted($('#deleted').hidden)
    } else if (target.closest('[data-hide-deleted]')) {
      showDeleted(false)
      $('[data-show-deleted]').focus()
    } else if (target.closest('[data-versions-close]')) {
      $('#versions-dialog').close()
    }
  }

  function initVersions () {
    document.addEventListener('submit', onVersionSubmit)
    document.addEventListener('click', onVersionClick)
    const dialog = $('#versions-dialog')
    if (dialog) {
      dialog.addEventListener('click', (event) => {
        if (event.target === dialog) dialog.close()
      })
      dialog.addEventListener('close', () => { versionsPath = undefined })
    }
  }

  // ---------- selection (assets/selection.js: checkboxes, zip, move, copy, bulk delete, rename) ----------

  // Absent when a host's layout does not load selection.js, or the namespace has no bulk routes.
  function initSelection () {
    const module = window.fastifyS3StorageSelection
    if (!module || !(cfg.zipUrl || cfg.moveUrl || cfg.copyUrl || cfg.deleteUrl)) return
    const reload = () => loadListing(location.href, { fresh: true })
    selection = module.createSelection({ cfg, api, h, icon, toast, announce, confirmAction, reload, listing, encodePath })
  }

  // ---------- row actions ----------

  function initRows () {
    listing.addEventListener('click', (event) => {
      const action = event.target.closest('[data-action]')
      if (action) {
        const row = action.closest('tr.row')
        if (!row) return
        if (action.dataset.action === 'delete') deleteEntry(row)
        else if (action.dataset.action === 'share') openShare(row)
        return
      }
      const open = event.target.closest('a[data-open-preview]')
      // Modified clicks keep their usual meaning (new tab, download).
      if (open && event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey) {
        event.preventDefault()
        openPreview(open.closest('tr.row'))
      }
    })
  }

  function init () {
    initTheme()
    localizeDates(document)
    initVersions()
    const app = $('[data-app]')
    if (!app) return
    cfg = readConfig(app)
    listing = $('[data-listing]')
    initSearch()
    initSort()
    initRows()
    initShare()
    initPreview()
    initMkdir()
    initQuota()
    initMultipart()
    initUploads()
    initSelection()
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
