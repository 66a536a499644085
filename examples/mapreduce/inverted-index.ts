// Inverted index: for each word, how many files hold it and which, as `word<TAB>3 a.txt,b.txt,c.txt`.
// `gort mapreduce --job examples/mapreduce/inverted-index.ts --input 'docs/*.md' --output index/`
import { defineJob } from 'gort/mapreduce'

export default defineJob<string, string>({
  // One record per file (key: its name, value: its text), so each word is emitted once per file.
  records: 'files',
  map(file, text, emit) {
    const words = new Set<string>()
    for (const w of text.split(/[^\p{L}\p{N}]+/u)) if (w) words.add(w.toLowerCase())
    for (const w of words) emit(w, file)
  },
  async reduce(word, files, emit) {
    const all: string[] = []
    for await (const f of files) all.push(f)
    all.sort()
    emit(word, `${all.length} ${all.join(',')}`)
  },
})
