/*
 * fastify-s3-storage — the file browser's selection: a checkbox per row (shift-click for a range, one in
 * the header for the whole page), the selection bar (download as zip, move to…, copy to…, delete), rename
 * in place (F2 or the row's Rename button), the folder picker of move and copy, and the panel that shows
 * their progress and what failed. browse.js hands it its helpers (createSelection) and tells it when the
 * listing was swapped; without the bulk routes in the page's config nothing here shows.
 *
 * The zip is a real form POST into a hidden frame: the browser's download manager streams the archive to
 * disk (nothing held in memory here), and an error page landing in the frame is read and reported. Every
 * name reaches the DOM as text (h() and textContent), never as markup.
 */
/* global window, document, fetch, TextDecoder */
(function () {
  'use strict'

  const $ = (selector, scope) => (scope || document).querySelector(selector)
  const $$ = (selector, scope) => Array.from((scope || document).querySelectorAll(selector))

  const lastSegment = (path) => path.replace(/\/$/, '').split('/').pop()
  const parentOf = (path) => {
    const trimmed = path.replace(/\/$/, '')
    return trimmed.slice(0, trimmed.lastIndexOf('/') + 1)
  }
  const countText = (n) => n === 1 ? '1 item' : `${n} items`

  function createSelection ({ cfg, api, h, icon, toast, announce, confirmAction, reload, listing, encodePath }) {
    const bar = $('[data-selection-bar]')
    const status = $('[data-selection-status]')
    // A host's own files.eta without the bar, or a namespace without the bulk routes: no selection.
    if (!bar || !status) return { listingChanged () {} }

    /** Selected paths (namespace-relative, folders ending in `/`), in the order they were picked. */
    const selected = new Map()
    let anchor
    let renaming

    const boxes = () => $$('tbody tr.row input[data-select]', listing)
    const rowOf = (node) => node.closest('tr.row')

    // ---------- the selection ----------

    function sync () {
      const all = boxes()
      let onPage = 0
      for (const box of all) {
        const row = rowOf(box)
        const on = selected.has(row.dataset.path)
        box.checked = on
        row.classList.toggle('is-selected', on)
        if (on) onPage++
      }
      const header = $('input[data-select-all]', listing)
      if (header) {
        header.checked = all.length > 0 && onPage === all.length
        header.indeterminate = onPage > 0 && onPage < all.length
      }
      bar.hidden = selected.size === 0
      $('[data-selection-count]', bar).textContent = `${countText(selected.size)} selected`
    }

    function changed () {
      sync()
      status.textContent = selected.size === 0 ? 'Selection cleared' : `${countText(selected.size)} selected`
    }

    function pick (box, on) {
      const row = rowOf(box)
      if (on) selected.set(row.dataset.path, { name: row.dataset.name, kind: row.dataset.kind })
      else selected.delete(row.dataset.path)
    }

    function onBoxClick (box, shift) {
      const all = boxes()
      const at = all.indexOf(box)
      const from = shift && anchor !== undefined ? all.findIndex((b) => rowOf(b).dataset.path === anchor) : -1
      // Shift-click gives every row between the last one clicked and this one this one's new state.
      if (from !== -1) {
        for (let i = Math.min(from, at); i <= Math.max(from, at); i++) pick(all[i], box.checked)
      } else {
        pick(box, box.checked)
      }
      anchor = rowOf(box).dataset.path
      changed()
    }

    function clear () {
      selected.clear()
      anchor = undefined
      changed()
    }

    // ---------- zip ----------

    function downloadZip () {
      const form = $('[data-zip-form]')
      if (!form || selected.size === 0) return
      $('[data-zip-paths]', form).value = Array.from(selected.keys()).join('\n')
      form.submit()
      toast(`Preparing a zip of ${countText(selected.size)}: the download starts in a moment`)
      announce('Preparing the zip download')
    }

    // A download never loads the frame; an error page does, and is reported instead of replacing this page.
    function watchZipFrame () {
      const frame = $('[data-zip-frame]')
      if (!frame) return
      frame.addEventListener('load', () => {
        let doc
        try {
          doc = frame.contentDocument
        } catch {}
        if (!doc || !doc.location || doc.location.href === 'about:blank') return
        // The routes answer a refused POST in JSON (shown as text in the frame); a host's proxy may send a page.
        let answer = {}
        try {
          answer = JSON.parse(doc.body ? doc.body.textContent : '') || {}
        } catch {
          answer = { statusCode: Number((doc.querySelector('.error-card h1') || {}).textContent) || 0, message: (doc.querySelector('.error-message') || {}).textContent || '' }
        }
        const job = addJob('i-archive', `Download as zip of ${countText(selected.size)}`)
        job.fail(zipProblem(Number(answer.statusCode) || 0, String(answer.message || ''), answer.code))
        frame.src = 'about:blank'
      })
    }

    function zipProblem (statusCode, message, code) {
      if (statusCode === 413) return `Too much to put in one zip${message ? ` (${message.replace(/^Too large: /i, '')})` : ''}. Select fewer files.`
      if (statusCode === 403) return code === 'FST_S3S_CSRF' ? 'This page is out of date. Reload it, then retry.' : 'You do not have permission to download some of these files.'
      if (statusCode === 401) return 'You are signed out. Sign in again, then retry.'
      if (statusCode === 404) return 'Some of these files are no longer there. Reload the folder, then retry.'
      return message ? `The zip could not be made: ${message}` : 'The zip could not be made. Try again.'
    }

    // ---------- jobs: progress and what failed ----------

    const jobsPanel = $('[data-jobs]')

    function addJob (iconId, title) {
      const progress = h('progress', { class: 'upload-progress', max: '100', 'aria-label': title })
      const message = h('span', { class: 'upload-message', text: 'Starting…' })
      const failures = h('ul', { class: 'job-failures', 'aria-label': 'What failed', hidden: true })
      const dismiss = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Remove from the list: ' + title, title: 'Remove from the list', hidden: true }, icon('i-x'))
      const root = h('li', { class: 'upload-item job-item', tabindex: '-1', 'data-job': '', 'data-state': 'running' },
        h('span', { class: 'badge k-folder' }, icon(iconId)),
        h('div', { class: 'upload-main' },
          h('span', { class: 'upload-name', title, text: title }),
          progress,
          h('div', { class: 'upload-status' }, message),
          failures
        ),
        h('div', { class: 'upload-actions' }, dismiss)
      )
      dismiss.addEventListener('click', () => {
        root.remove()
        if (!$('[data-job]', jobsPanel)) jobsPanel.hidden = true
      })
      $('[data-job-list]', jobsPanel).prepend(root)
      jobsPanel.hidden = false
      const end = (state, text) => {
        root.dataset.state = state
        root.classList.toggle('is-done', state === 'done')
        root.classList.toggle('is-error', state === 'error')
        message.textContent = text
        dismiss.hidden = false
        announce(text)
      }
      return {
        root,
        progress (done, failed, total) {
          const n = done + failed
          if (total > 0) progress.value = Math.min(100, Math.floor((n / total) * 100))
          message.textContent = (total > 0 ? `${n} of ${total} ${total === 1 ? 'file' : 'files'}` : `${n} ${n === 1 ? 'file' : 'files'} done`) + (failed > 0 ? ` · ${failed} failed` : '')
        },
        finish (text, failedItems) {
          progress.value = 100
          if (failedItems.length > 0) {
            failures.replaceChildren(...failedItems.map((f) => h('li', {},
              h('span', { class: 'job-failure-name', text: f.path }),
              h('span', { class: 'job-failure-why', text: failureText(f) })
            )))
            failures.hidden = false
          }
          end(failedItems.length > 0 ? 'error' : 'done', text)
        },
        fail (text) {
          end('error', text)
        }
      }
    }

    function failureText ({ code, message }) {
      if (code === 'FST_S3S_EXISTS') return 'Something with this name is already there.'
      if (code === 'FST_S3S_FORBIDDEN') return 'You do not have permission.'
      if (code === 'FST_S3S_NOT_FOUND') return 'It is no longer there.'
      return message || 'Failed.'
    }

    function requestProblem (statusCode, body, what) {
      if (statusCode === 401) return 'You are signed out. Sign in again, then retry.'
      if (statusCode === 403 && body.code === 'FST_S3S_CSRF') return 'This page is out of date. Reload it, then retry.'
      if (statusCode === 403) return `You do not have permission to ${what}.`
      if (statusCode === 0) return 'The connection was lost. Check your network, then reload to see what is there now.'
      return body.message ? `Could not ${what}: ${body.message}` : `Could not ${what}. Try again.`
    }

    clearFinishedJobs()
    function clearFinishedJobs () {
      const button = $('[data-clear-jobs]', jobsPanel)
      if (!button) return
      button.addEventListener('click', () => {
        for (const item of $$('[data-job]', jobsPanel)) if (item.dataset.state !== 'running') item.remove()
        if (!$('[data-job]', jobsPanel)) jobsPanel.hidden = true
      })
    }

    /** Reads `{ done, failed, total }` lines until the one with `"result": true`, which it returns. */
    async function readProgress (response, onProgress) {
      const reader = response.body.getReader()
      const decoder = new TextDecoder()
      let buffered = ''
      let result
      const take = (line) => {
        if (line.trim() === '') return
        let value
        try {
          value = JSON.parse(line)
        } catch {
          return
        }
        if (value && value.result === true) result = value
        else if (value && typeof value.done === 'number') onProgress(value)
      }
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffered += decoder.decode(value, { stream: true })
        let newline
        while ((newline = buffered.indexOf('\n')) !== -1) {
          take(buffered.slice(0, newline))
          buffered = buffered.slice(newline + 1)
        }
      }
      take(buffered + decoder.decode())
      return result
    }

    /** POSTs a move or a copy, following its progress lines; the result object, or `{ error }`. */
    async function transfer (url, body, onProgress) {
      let response
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'X-Requested-With': 'XMLHttpRequest', 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
          body: JSON.stringify(body),
          credentials: 'same-origin'
        })
      } catch {
        return { statusCode: 0, body: {} }
      }
      if (!response.ok) {
        let data = {}
        try {
          data = await response.json()
        } catch {}
        return { statusCode: response.status, body: data || {} }
      }
      try {
        const type = response.headers.get('content-type') || ''
        const result = type.includes('ndjson') ? await readProgress(response, onProgress) : await response.json()
        return result ? { statusCode: 200, result } : { statusCode: 0, body: {} }
      } catch {
        return { statusCode: 0, body: {} }
      }
    }

    const where = (folder) => folder === '' ? cfg.namespace : lastSegment(folder)

    // One job at a time from the bar: its buttons wait while a move, copy or delete runs.
    async function busy (work) {
      const buttons = $$('[data-selection-action]:not([data-selection-action="clear"])', bar)
      for (const b of buttons) b.disabled = true
      bar.setAttribute('aria-busy', 'true')
      try {
        await work()
      } finally {
        for (const b of buttons) b.disabled = false
        bar.removeAttribute('aria-busy')
      }
    }

    async function runTransfer (kind, from, to) {
      const moving = kind === 'move'
      const job = addJob(moving ? 'i-move' : 'i-copy', `${moving ? 'Moving' : 'Copying'} ${countText(from.length)} to ${where(to)}`)
      const outcome = await transfer(moving ? cfg.moveUrl : cfg.copyUrl, { from, to }, ({ done, failed, total }) => job.progress(done, failed, total))
      if (!outcome.result) {
        job.fail(requestProblem(outcome.statusCode, outcome.body, moving ? 'move these items' : 'copy these items'))
      } else {
        const done = (moving ? outcome.result.moved : outcome.result.copied) || []
        const failed = (outcome.result.failed || []).map((f) => ({ path: f.from, code: f.code, message: f.message }))
        const verb = moving ? 'Moved' : 'Copied'
        job.finish(`${verb} ${done.length} ${done.length === 1 ? 'file' : 'files'} to ${where(to)}` + (failed.length > 0 ? `; ${failed.length} failed` : ''), failed)
        if (failed.length === 0) clear()
      }
      await afterChange(job)
    }

    async function deleteSelected () {
      const paths = Array.from(selected.keys())
      const folders = paths.filter((p) => p.endsWith('/')).length
      const kept = Boolean(cfg.versionsUrl)
      const confirmed = await confirmAction({
        title: paths.length === 1 ? `Delete “${lastSegment(paths[0])}”?` : `Delete ${countText(paths.length)}?`,
        text: (paths.length === 1
          ? `“${lastSegment(paths[0])}”` + (folders > 0 ? ' and everything inside it' : '')
          : `These ${countText(paths.length)}` + (folders > 0 ? ' (folders with everything inside them)' : '')) +
          ' will be deleted for everyone.' + (kept ? ' Their versions are kept: “Show deleted files” brings them back.' : ' This cannot be undone.'),
        ok: paths.length === 1 ? 'Delete' : `Delete ${countText(paths.length)}`
      })
      if (!confirmed) return
      await busy(() => runDelete(paths))
    }

    async function runDelete (paths) {
      const job = addJob('i-trash', `Deleting ${countText(paths.length)}`)
      const { status: statusCode, body } = await api('POST', cfg.deleteUrl, { paths })
      if (statusCode !== 200) {
        job.fail(requestProblem(statusCode, body, 'delete these items'))
      } else {
        const failed = (body.failed || []).map((f) => ({ path: f.path, code: f.code, message: f.message }))
        const deleted = Number(body.deleted) || 0
        job.finish(`Deleted ${deleted} ${deleted === 1 ? 'file' : 'files'}` + (failed.length > 0 ? `; ${failed.length} failed` : ''), failed)
        if (failed.length === 0) clear()
      }
      await afterChange(job)
    }

    // The folder is shown again as the server now has it; a report with failures takes the focus.
    async function afterChange (job) {
      await reload()
      if (job.root.dataset.state === 'error') {
        job.root.focus()
        return
      }
      const first = $('tbody tr.row a.entry', listing)
      if (first) first.focus()
      else $('#main').focus()
    }

    // ---------- the folder picker ----------

    const picker = $('#picker-dialog')
    let pickerFolder = ''
    let pickerSources = []
    let pickerKind = 'move'

    /** Whether `folder` is one of the sources or inside one (a folder cannot go into itself). */
    const insideSource = (folder) => pickerSources.some((s) => s.endsWith('/') && folder.startsWith(s))
    // Into the folder they are all in already: nothing to do for a move, a clash of every name for a copy.
    const alreadyThere = (folder) => pickerSources.every((s) => parentOf(s) === folder)

    async function listFolders (folder) {
      const folders = []
      let cursor
      // Folders come first in a listing's pages; a few pages are plenty for a picker.
      for (let pages = 0; pages < 20; pages++) {
        const url = cfg.baseUrl + '/files/' + encodePath(folder) + (cursor ? '?cursor=' + encodeURIComponent(cursor) : '')
        const { status: statusCode, body } = await api('GET', url)
        if (statusCode !== 200) return { statusCode, body }
        folders.push(...(body.folders || []))
        cursor = body.nextCursor
        if (!cursor || (body.files || []).length > 0) return { folders, more: Boolean(cursor) && (body.files || []).length === 0 }
      }
      return { folders, more: true }
    }

    async function showPickerFolder (folder, focusPath) {
      pickerFolder = folder
      const list = $('[data-picker-list]', picker)
      const error = $('[data-picker-error]', picker)
      const ok = $('[data-picker-ok]', picker)
      const blocked = insideSource(folder) || alreadyThere(folder)
      ok.disabled = blocked
      $('[data-picker-up]', picker).disabled = folder === ''
      $('[data-picker-where]', picker).textContent = 'In ' + (folder === '' ? cfg.namespace : cfg.namespace + '/' + folder) +
        (alreadyThere(folder) ? ' (they are here already)' : '')
      error.hidden = true
      list.setAttribute('aria-busy', 'true')
      list.replaceChildren(h('li', { class: 'picker-empty' }, h('div', { class: 'spinner', role: 'img', 'aria-label': 'Loading' })))
      const listed = await listFolders(folder)
      if (pickerFolder !== folder || !picker.open) return
      list.removeAttribute('aria-busy')
      if (!listed.folders) {
        list.replaceChildren()
        error.hidden = false
        error.textContent = requestProblem(listed.statusCode, listed.body, 'list this folder')
        return
      }
      const items = listed.folders.map((f) => {
        const inside = insideSource(f.path)
        return h('li', {}, h('button', {
          type: 'button',
          class: 'picker-folder',
          'data-picker-path': f.path,
          'aria-disabled': inside ? 'true' : undefined,
          title: inside ? 'A folder cannot go into itself' : undefined
        }, h('span', { class: 'badge k-folder' }, icon('i-folder')), h('span', { class: 'picker-name', text: f.name }), icon('i-chevron-right', 'picker-chevron')))
      })
      if (items.length === 0) items.push(h('li', { class: 'picker-empty', text: 'No folders in here.' }))
      if (listed.more) items.push(h('li', { class: 'picker-empty', text: 'More folders are not shown.' }))
      list.replaceChildren(...items)
      const buttons = $$('button.picker-folder', list)
      const back = focusPath && buttons.find((b) => b.dataset.pickerPath === focusPath)
      const target = back || buttons[0] || (ok.disabled ? $('[data-picker-up]', picker) : ok)
      if (target && !target.disabled) target.focus()
    }

    function pickFolder (kind, sources) {
      pickerKind = kind
      pickerSources = sources
      const verb = kind === 'move' ? 'Move' : 'Copy'
      $('[data-picker-title]', picker).textContent = sources.length === 1 ? `${verb} “${lastSegment(sources[0])}” to…` : `${verb} ${countText(sources.length)} to…`
      $('[data-picker-text]', picker).textContent = `Open the folder to put ${sources.length === 1 ? 'it' : 'them'} in, then choose “${verb} here”. A name that is taken there is reported, never overwritten.`
      $('[data-picker-ok]', picker).textContent = `${verb} here`
      picker.returnValue = ''
      picker.showModal()
      showPickerFolder(cfg.path)
      return new Promise((resolve) => {
        picker.addEventListener('close', () => resolve(picker.returnValue === 'ok' ? pickerFolder : undefined), { once: true })
      })
    }

    function initPicker () {
      if (!picker) return
      const list = $('[data-picker-list]', picker)
      const up = () => {
        if (pickerFolder !== '') showPickerFolder(parentOf(pickerFolder), pickerFolder)
      }
      $('[data-picker-up]', picker).addEventListener('click', up)
      list.addEventListener('click', (event) => {
        const button = event.target.closest('button.picker-folder')
        if (button && button.getAttribute('aria-disabled') !== 'true') showPickerFolder(button.dataset.pickerPath)
      })
      picker.addEventListener('keydown', (event) => {
        const buttons = $$('button.picker-folder', list)
        const at = buttons.indexOf(document.activeElement)
        let next
        if (event.key === 'ArrowDown') next = buttons[at === -1 ? 0 : Math.min(buttons.length - 1, at + 1)]
        else if (event.key === 'ArrowUp') next = buttons[at === -1 ? 0 : Math.max(0, at - 1)]
        else if (event.key === 'Home') next = buttons[0]
        else if (event.key === 'End') next = buttons[buttons.length - 1]
        else if (event.key === 'Backspace' || (event.key === 'ArrowLeft' && at !== -1)) {
          event.preventDefault()
          up()
          return
        } else if (event.key === 'ArrowRight' && at !== -1) {
          event.preventDefault()
          buttons[at].click()
          return
        }
        if (next) {
          event.preventDefault()
          next.focus()
        }
      })
      // A blocked target cannot be confirmed, not even with Enter in the form.
      $('[data-picker-form]', picker).addEventListener('submit', (event) => {
        if (event.submitter && event.submitter.value === 'ok' && $('[data-picker-ok]', picker).disabled) event.preventDefault()
      })
      picker.addEventListener('click', (event) => {
        if (event.target === picker) picker.close()
      })
    }

    async function pickAndRun (kind) {
      if (!picker || selected.size === 0) return
      const sources = Array.from(selected.keys())
      const opener = $(`[data-selection-action="${kind}"]`, bar)
      const to = await pickFolder(kind, sources)
      if (to === undefined) {
        if (opener) opener.focus()
        return
      }
      await busy(() => runTransfer(pickerKind, sources, to))
    }

    // ---------- rename in place ----------

    let renameId = 0

    function startRename (row) {
      if (!cfg.moveUrl || !row) return
      if (renaming) cancelRename()
      const cell = $('td.col-name', row)
      const entry = $('a.entry', cell)
      if (!cell || !entry) return
      const name = row.dataset.name
      const id = 'rename-' + (++renameId)
      const input = h('input', { id, class: 'input rename-input', value: name, maxlength: '255', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': id + '-hint', enterkeyhint: 'done' })
      const error = h('p', { id: id + '-error', class: 'field-error rename-error', role: 'alert', hidden: true })
      const hint = h('span', { id: id + '-hint', class: 'sr-only', text: 'Enter to rename, Escape to cancel.' })
      const form = h('form', { class: 'rename', 'data-rename': '' },
        h('label', { class: 'sr-only', for: id, text: `New name for ${name}` }), input, hint, error)
      entry.hidden = true
      cell.append(form)
      renaming = { row, form, input, error, entry, name, path: row.dataset.path, folder: row.dataset.kind === 'folder', busy: false }
      input.focus()
      // The name without its extension is selected, as desktop file managers do.
      const dot = name.lastIndexOf('.')
      input.setSelectionRange(0, renaming.folder || dot <= 0 ? name.length : dot)
      form.addEventListener('submit', (event) => {
        event.preventDefault()
        commitRename()
      })
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Escape') {
          event.preventDefault()
          event.stopPropagation()
          cancelRename(true)
        }
      })
      input.addEventListener('input', () => {
        if (renaming && renaming.input === input) showRenameError('')
      })
      input.addEventListener('blur', () => {
        // Leaving an unchanged name is a cancel; a changed one stays until Enter or Escape.
        if (renaming && renaming.input === input && !renaming.busy && input.value === name) cancelRename()
      })
    }

    function cancelRename (focus) {
      const current = renaming
      if (!current) return
      renaming = undefined
      current.form.remove()
      current.entry.hidden = false
      if (focus) current.entry.focus()
    }

    function showRenameError (text) {
      const current = renaming
      if (!current) return
      current.error.hidden = text === ''
      current.error.textContent = text
      current.input.setAttribute('aria-invalid', text === '' ? 'false' : 'true')
      current.input.setAttribute('aria-describedby', text === '' ? current.input.id + '-hint' : current.error.id + ' ' + current.input.id + '-hint')
    }

    function renameProblem (statusCode, code, message, name) {
      if (code === 'FST_S3S_EXISTS' || statusCode === 409) return `“${name}” is already taken here. Choose another name.`
      if (statusCode === 400) return 'That name cannot be used. Avoid “/”, “\\”, “.”, “..”, control characters and names over 255 bytes.'
      if (statusCode === 401) return 'You are signed out. Sign in again, then retry.'
      if (statusCode === 403 && code === 'FST_S3S_CSRF') return 'This page is out of date. Reload it, then retry.'
      if (statusCode === 403 || code === 'FST_S3S_FORBIDDEN') return 'You do not have permission to rename this.'
      if (statusCode === 404 || code === 'FST_S3S_NOT_FOUND') return 'It is no longer there: it may have been moved or deleted meanwhile.'
      if (statusCode === 0) return 'The connection was lost. Check your network, then retry.'
      return message ? `Could not rename: ${message}` : 'Could not rename. Try again.'
    }

    async function commitRename () {
      const current = renaming
      if (!current || current.busy) return
      const value = current.input.value.trim().normalize('NFC')
      if (value === current.name) return cancelRename(true)
      if (value === '' || value === '.' || value === '..' || /[/\\]/.test(value)) return showRenameError(renameProblem(400, '', '', value))
      const to = parentOf(current.path) + value
      current.busy = true
      current.input.readOnly = true
      current.form.classList.add('is-busy')
      const { status: statusCode, body } = await api('POST', cfg.moveUrl, { from: [current.path], to })
      current.busy = false
      current.input.readOnly = false
      current.form.classList.remove('is-busy')
      if (renaming !== current) return
      const failed = statusCode === 200 && Array.isArray(body.failed) ? body.failed[0] : undefined
      const moved = statusCode === 200 && Array.isArray(body.moved) ? body.moved : []
      if (statusCode !== 200 || failed || moved.length === 0) {
        const code = failed ? failed.code : body.code
        showRenameError(renameProblem(failed ? failureStatus(failed.code) : statusCode, code, failed ? failed.message : body.message, value))
        current.input.focus()
        return
      }
      renaming = undefined
      selected.delete(current.path)
      toast(`Renamed “${current.name}” to “${value}”`)
      announce(`Renamed ${current.name} to ${value}`)
      await reload()
      const newPath = to + (current.folder ? '/' : '')
      const row = $$('tbody tr.row', listing).find((r) => r.dataset.path === newPath)
      const link = row && $('a.entry', row)
      if (link) link.focus()
      else $('#main').focus()
    }

    const failureStatus = (code) => code === 'FST_S3S_EXISTS' ? 409 : code === 'FST_S3S_FORBIDDEN' ? 403 : code === 'FST_S3S_NOT_FOUND' ? 404 : /BAD_REQUEST|INVALID/.test(code || '') ? 400 : 500

    // ---------- wiring ----------

    listing.addEventListener('click', (event) => {
      const box = event.target.closest('input[data-select]')
      if (box) return onBoxClick(box, event.shiftKey)
      const header = event.target.closest('input[data-select-all]')
      if (header) {
        for (const b of boxes()) pick(b, header.checked)
        anchor = undefined
        return changed()
      }
      const rename = event.target.closest('[data-action="rename"]')
      if (rename) startRename(rowOf(rename))
    })

    bar.addEventListener('click', (event) => {
      const button = event.target.closest('[data-selection-action]')
      if (!button) return
      const action = button.dataset.selectionAction
      if (action === 'zip') downloadZip()
      else if (action === 'move' || action === 'copy') pickAndRun(action)
      else if (action === 'delete') deleteSelected()
      else if (action === 'clear') {
        clear()
        const first = $('tbody tr.row input[data-select]', listing)
        if (first) first.focus()
      }
    })

    document.addEventListener('keydown', (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return
      const target = event.target
      const typing = target.closest && target.closest('textarea, select, [contenteditable], input:not([type="checkbox"]), dialog, details[open]')
      if (typing) return
      if (event.key === 'Escape' && selected.size > 0) {
        event.preventDefault()
        clear()
      } else if (event.key === 'F2' && cfg.moveUrl) {
        const row = target.closest && target.closest('tbody tr.row')
        if (row && listing.contains(row)) {
          event.preventDefault()
          startRename(row)
        }
      }
    })

    initPicker()
    watchZipFrame()
    sync()

    return {
      /** After browse.js swapped the listing: keep what is still shown selected, drop the rest. */
      listingChanged () {
        const shown = new Set($$('tbody tr.row', listing).map((row) => row.dataset.path))
        let dropped = false
        for (const path of Array.from(selected.keys())) {
          if (!shown.has(path)) {
            selected.delete(path)
            dropped = true
          }
        }
        if (anchor !== undefined && !shown.has(anchor)) anchor = undefined
        if (renaming && !renaming.row.isConnected) renaming = undefined
        if (dropped) changed()
        else sync()
      }
    }
  }

  window.fastifyS3StorageSelection = { createSelection }
})()
