/**
 * A dependency-free SVG line chart for the scheduler and MapReduce benches: procs on x, speedup
 * on y, the ideal line (speedup = procs) and one polyline per series.
 */

export interface Series {
  readonly name: string
  readonly points: readonly (readonly [number, number])[]
  readonly color: string
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** `yLabel`: what the speed-up is over (the scheduler bench: single-threaded code; MapReduce: the same job at 1 proc). */
export function speedupSvg(title: string, series: readonly Series[], maxProcs: number, yLabel = 'speedup vs single-threaded'): string {
  const W = 640
  const H = 420
  const L = 60
  const R = 220
  const T = 40
  const B = 50
  const xMax = Math.max(2, maxProcs)
  const yMax = Math.max(xMax, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.05
  const x = (v: number): number => L + ((v - 1) / (xMax - 1)) * (W - L - R)
  const y = (v: number): number => H - B - (v / yMax) * (H - T - B)
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`)
  out.push(`<line x1="${L}" y1="${y(0)}" x2="${W - R}" y2="${y(0)}" stroke="black"/>`)
  out.push(`<line x1="${L}" y1="${y(0)}" x2="${L}" y2="${T}" stroke="black"/>`)
  for (let p = 1; p <= xMax; p++) {
    if (xMax > 8 && p % 2 === 1 && p !== 1) continue
    out.push(`<text x="${x(p)}" y="${H - B + 18}" text-anchor="middle">${p}</text>`)
  }
  for (let v = 0; v <= yMax; v += yMax > 8 ? 2 : 0.5) {
    out.push(`<text x="${L - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text>`)
    out.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/>`)
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">procs (threads)</text>`)
  out.push(`<text x="16" y="${(T + H - B) / 2}" transform="rotate(-90 16 ${(T + H - B) / 2})" text-anchor="middle">${esc(yLabel)}</text>`)
  out.push(`<line x1="${x(1)}" y1="${y(1)}" x2="${x(xMax)}" y2="${y(xMax)}" stroke="#888" stroke-dasharray="5,4"/>`)
  const all = [{ name: 'ideal (speedup = procs)', points: [], color: '#888' } as Series, ...series]
  all.forEach((s, i) => {
    if (s.points.length > 0) {
      const pts = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')
      out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`)
      for (const [px, py] of s.points) out.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"/>`)
    }
    const ly = T + 10 + i * 20
    out.push(`<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2"${i === 0 ? ' stroke-dasharray="5,4"' : ''}/>`)
    out.push(`<text x="${W - R + 46}" y="${ly + 4}">${esc(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
