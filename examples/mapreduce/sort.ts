// Sort of 100-byte records (the paper's §5.3, TeraSort): key = the first 10 bytes, value = the rest.
// `gort mapreduce --job examples/mapreduce/sort.ts --input 'records/*' --output sorted/ --reducers 4`
// `sample` has the coordinator map a sample of the input first and cut the sorted sample keys into
// equal ranges, one per reducer (Hadoop's InputSampler + TotalOrderPartitioner), so
// `cat sorted/part-r-*` is one sorted file: `key<TAB>value` lines, in key byte order.
// Records as gensort -a makes them: examples/mapreduce/records.ts.
import { defineJob } from 'gort/mapreduce'

export default defineJob({
  map(_file, record, emit) {
    emit(record.slice(0, 10), record.slice(10))
  },
  // No reduce: the identity writes each record as it comes, keys in order.
  sample: { records: 10_000, splits: 10 },
})
