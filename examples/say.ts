// The Go tour's first goroutine program:
//
//   func say(s string) { for i := 0; i < 5; i++ { time.Sleep(100 * time.Millisecond); fmt.Println(s) } }
//   func main() { go say("world"); say("hello") }
//
// Run: npx tsx examples/say.ts   (SAY_MS sets the sleep, default 100)
import { go, sleep } from '../src/index.js'

const ms = Number(process.env['SAY_MS'] ?? 100)

async function say(s: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await sleep(ms)
    console.log(s)
  }
}

go(say, 'world')
await say('hello')
