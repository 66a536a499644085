// The idiomatic single-threaded word count in Node, the peer gort must beat: stream each file by
// lines (readline), split on whitespace, one string per word, counts in a Map; then the counts,
// sorted by word, as `word<TAB>count` lines.
// usage: node wc-idiomatic.mjs OUT FILE...
import { createReadStream, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

const [out, ...files] = process.argv.slice(2)
const counts = new Map()
for (const file of files) {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
  for await (const line of lines) {
    for (const w of line.split(/\s+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1)
  }
}
const words = [...counts.keys()].sort()
writeFileSync(out, words.map((w) => `${w}\t${counts.get(w)}\n`).join(''))
