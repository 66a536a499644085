/**
 * Word counts read back from a benchmark row's output, to check that every row counted the same.
 * `kind`: 'gort' (a job's output directory of `part-*` files), 'tsv' (one file of `word<TAB>count`
 * lines: the Node and Go peers), 'uniq' (`uniq -c`'s `  count word` lines).
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

export type CountsKind = 'tsv' | 'uniq' | 'gort'

export function readCounts(kind: CountsKind, out: string): Map<string, number> {
  const m = new Map<string, number>()
  const texts = kind === 'gort'
    ? readdirSync(out).filter((f) => f.startsWith('part-')).sort().map((f) => readFileSync(path.join(out, f), 'utf8'))
    : [readFileSync(out, 'utf8')]
  for (const t of texts) {
    for (const line of t.split('\n')) {
      if (line === '') continue
      if (kind === 'uniq') {
        const mm = /^\s*(\d+) (.*)$/.exec(line)
        if (mm !== null && mm[2] !== '') m.set(mm[2]!, Number(mm[1]))
      } else {
        const tab = line.lastIndexOf('\t')
        m.set(line.slice(0, tab), Number(line.slice(tab + 1)))
      }
    }
  }
  return m
}

export function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (b.get(k) !== v) return false
  return true
}
