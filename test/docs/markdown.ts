/**
 * Finds the examples in a Markdown page: fenced `ts` / `typescript` blocks, the
 * marker that may precede each, and an `output` block that may follow it.
 *
 * The convention the docs follow (README.md and docs/*.md):
 * - Every `ts` block is a complete program: it must type-check and run (exit 0).
 * - A marker, an HTML comment on the last non-blank line before the fence, changes that:
 *     <!-- not-run: reason -->        a fragment: neither type-checked nor run
 *     <!-- typecheck-only: reason --> type-checked, not run (needs what a test lacks)
 *     <!-- file: name.ts -->          a module that other blocks of the same page
 *                                     import as './name.js'; type-checked, not run alone
 *   A reason is required. Any other comment in that place is an error, so a
 *   misspelt marker cannot silently change what is checked.
 * - A block tagged `output` right after a `ts` block (nothing but blank lines
 *   between) is the program's exact stdout (trailing whitespace ignored).
 *
 * Invariants:
 * - Parsing never throws: problems come back as `errors`, each naming page:line,
 *   so one bad page does not hide the others.
 * - `line` is the 1-based line of the opening fence; line k of `code` is line
 *   `line + k` of the page, which is how type errors are mapped back to the page.
 */

export interface Fence {
  /** First word of the info string, lower-cased ('' for an untagged block). */
  readonly lang: string
  /** 1-based line of the opening fence. */
  readonly line: number
  /** 1-based line of the closing fence; -1 when the page ends inside the block. */
  readonly endLine: number
  readonly code: string
  /** The last non-blank line before the fence, when it is an HTML comment: its inside. */
  readonly comment: string | undefined
}

export type Mode = 'run' | 'typecheck-only' | 'module' | 'not-run'

export interface Example {
  /** The page, relative to the repository root (e.g. 'docs/chan.md'). */
  readonly doc: string
  readonly line: number
  readonly code: string
  readonly mode: Mode
  /** Why a block is not run (not-run, typecheck-only). */
  readonly reason: string | undefined
  /** The module's file name (mode 'module'). */
  readonly name: string | undefined
  /** Expected stdout, from a following `output` block. */
  readonly output: string | undefined
}

export const TS_LANGS: ReadonlySet<string> = new Set(['ts', 'typescript'])
const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})(.*)$/
const COMMENT = /^\s*<!--(.*?)-->\s*$/
const MODULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.ts$/

export function parseFences(markdown: string): Fence[] {
  const lines = markdown.split(/\r?\n/)
  const fences: Fence[] = []
  let lastNonBlank: string | undefined
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? ''
    const open = FENCE_OPEN.exec(text)
    // A backtick fence's info string may not contain backticks (CommonMark).
    if (open === null || (open[2]?.startsWith('`') === true && open[3]?.includes('`') === true)) {
      if (text.trim() !== '') lastNonBlank = text
      continue
    }
    const indent = open[1]?.length ?? 0
    const marker = open[2] ?? '```'
    const lang = (open[3] ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? ''
    const close = new RegExp(`^\\s*${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`)
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length && !close.test(lines[j] ?? ''); j++) {
      // Content is de-indented by the fence's own indentation (list items).
      body.push((lines[j] ?? '').replace(new RegExp(`^ {0,${indent}}`), ''))
    }
    const comment = lastNonBlank === undefined ? undefined : COMMENT.exec(lastNonBlank)?.[1]?.trim()
    fences.push({ lang, line: i + 1, endLine: j < lines.length ? j + 1 : -1, code: body.join('\n'), comment })
    lastNonBlank = lines[j]
    i = j
  }
  return fences
}

export interface ParsedDoc {
  readonly examples: Example[]
  readonly fences: Fence[]
  readonly errors: string[]
}

function parseMarker(doc: string, fence: Fence, errors: string[]): Pick<Example, 'mode' | 'reason' | 'name'> {
  const none = { mode: 'run', reason: undefined, name: undefined } as const
  if (fence.comment === undefined) return none
  const m = /^([a-z-]+)\s*:\s*(.*)$/s.exec(fence.comment)
  const kind = m?.[1]
  const arg = m?.[2]?.trim() ?? ''
  const where = `${doc}:${fence.line}`
  if (kind === 'not-run' || kind === 'typecheck-only') {
    if (arg === '') errors.push(`${where}: <!-- ${kind}: --> needs a reason`)
    return { mode: kind, reason: arg, name: undefined }
  }
  if (kind === 'file') {
    if (!MODULE_NAME.test(arg) || /^line-\d+\.ts$/.test(arg)) {
      errors.push(`${where}: <!-- file: ${arg} --> must name a module like 'fib.ts' (not line-N.ts)`)
    }
    return { mode: 'module', reason: undefined, name: arg }
  }
  errors.push(
    `${where}: unknown marker <!-- ${fence.comment} --> before a ts block; ` +
      `use not-run: reason, typecheck-only: reason, or file: name.ts (or put prose between them)`,
  )
  return none
}

export function parseDoc(doc: string, markdown: string): ParsedDoc {
  const fences = parseFences(markdown)
  const lines = markdown.split(/\r?\n/)
  const examples: Example[] = []
  const errors: string[] = []
  const names = new Set<string>()
  let previous: Fence | undefined
  for (const fence of fences) {
    if (fence.endLine === -1) errors.push(`${doc}:${fence.line}: unclosed code fence`)
    if (TS_LANGS.has(fence.lang)) {
      const marker = parseMarker(doc, fence, errors)
      if (marker.name !== undefined) {
        if (names.has(marker.name)) errors.push(`${doc}:${fence.line}: a second block named ${marker.name}`)
        names.add(marker.name)
      }
      examples.push({ doc, line: fence.line, code: fence.code, output: undefined, ...marker })
    } else if (fence.lang === 'output') {
      const between = previous === undefined ? [] : lines.slice(previous.endLine, fence.line - 1)
      const last = examples[examples.length - 1]
      if (previous === undefined || !TS_LANGS.has(previous.lang) || between.some((l) => l.trim() !== '') || last === undefined) {
        errors.push(`${doc}:${fence.line}: an output block must directly follow a ts block`)
      } else if (last.mode !== 'run') {
        errors.push(`${doc}:${fence.line}: an output block follows a block that is not run (${last.mode})`)
      } else {
        examples[examples.length - 1] = { ...last, output: fence.code }
      }
    }
    previous = fence
  }
  return { examples, fences, errors }
}

/** `gort <subcommand>` as written in shell blocks and in `$ `-prefixed transcript lines. */
export interface CommandUse {
  readonly line: number
  readonly command: string
}

const SHELL_LANGS: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'console', 'zsh'])
const GORT_CALL = /^(?:npx\s+)?(?:gort|node\s+(?:\.\/)?bin\/gort\.js)(?:\s+(\S+))?/

export function gortCommands(fences: readonly Fence[]): CommandUse[] {
  const uses: CommandUse[] = []
  for (const fence of fences) {
    const shell = SHELL_LANGS.has(fence.lang)
    if (!shell && fence.lang !== '') continue
    fence.code.split('\n').forEach((raw, k) => {
      const prompt = /^\s*\$\s+/.exec(raw)
      // In an untagged block only prompt lines are commands; the rest is output.
      if (!shell && prompt === null) return
      const text = raw.slice(prompt?.[0].length ?? 0).replace(/(^|\s)#.*$/, '')
      for (const part of text.split(/&&|\|\||;|\|/)) {
        const m = GORT_CALL.exec(part.trim())
        if (m === null) continue
        const command = m[1] ?? ''
        if (command !== '' && !command.startsWith('-')) uses.push({ line: fence.line + 1 + k, command })
      }
    })
  }
  return uses
}
