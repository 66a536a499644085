/**
 * Where the HTML page draws things: roots (stacks, globals) as boxes in a top
 * row, heap objects as circles in layers below, by distance from the roots.
 *
 * Invariants:
 * - One layout for every frame of every mode on the page, so an object never
 *   moves while stepping and the panels compare at a glance. It covers the
 *   union of all objects and edges that appear in any frame.
 * - Deterministic: the same runs give the same coordinates.
 */
import { dict } from './dict.js'
import { GLOBALS } from './heap.js'
import type { Frame } from './run.js'

export interface RootBox {
  readonly name: string
  readonly kind: 'stack' | 'globals'
  readonly x: number
  readonly y: number
  readonly w: number
  readonly h: number
  /** Slot or field names, one row each, in order. */
  readonly rows: string[]
}

export interface Layout {
  readonly width: number
  readonly height: number
  readonly roots: RootBox[]
  readonly nodes: Record<string, { readonly x: number; readonly y: number }>
}

export const BOX_W = 92
export const HEADER_H = 22
export const ROW_H = 18
const GAP = 18
const LAYER_H = 84
const NODE_W = 76
const MARGIN = 20

export function computeLayout(frames: readonly Frame[]): Layout {
  const stackRows = new Map<string, Set<string>>()
  const globalRows = new Set<string>()
  let hasGlobals = false
  const objects = new Set<string>()
  const edges = new Map<string, Set<string>>() // source (object name or root) -> targets
  const addEdge = (from: string, to: string | null): void => {
    if (to === null) return
    let set = edges.get(from)
    if (set === undefined) edges.set(from, (set = new Set()))
    set.add(to)
  }
  for (const frame of frames) {
    for (const [g, stack] of Object.entries(frame.stacks)) {
      let rows = stackRows.get(g)
      if (rows === undefined) stackRows.set(g, (rows = new Set()))
      for (const [slot, target] of stack.slots) {
        rows.add(slot)
        addEdge(`stack:${g}`, target)
      }
    }
    for (const [name, object] of Object.entries(frame.objects)) {
      if (object.root) {
        hasGlobals = true
        for (const [field, target] of object.fields) {
          globalRows.add(field)
          addEdge(`stack:${GLOBALS}`, target)
        }
      } else {
        objects.add(name)
        for (const [, target] of object.fields) addEdge(name, target)
      }
    }
  }

  const roots: RootBox[] = []
  let x = MARGIN
  const box = (name: string, kind: RootBox['kind'], rows: Set<string>): void => {
    const list = [...rows]
    roots.push({ name, kind, x, y: MARGIN, w: BOX_W, h: HEADER_H + Math.max(1, list.length) * ROW_H, rows: list })
    x += BOX_W + GAP
  }
  for (const [g, rows] of stackRows) box(g, 'stack', rows)
  if (hasGlobals) box(GLOBALS, 'globals', globalRows)
  const rootsWidth = x - GAP + MARGIN
  const rootsBottom = MARGIN + Math.max(HEADER_H + ROW_H, ...roots.map((r) => r.h))

  // Breadth-first depth from the roots over every edge seen in any frame.
  const depth = new Map<string, number>()
  let frontier: string[] = []
  for (const root of roots) for (const target of edges.get(`stack:${root.name}`) ?? []) if (!depth.has(target)) depth.set(target, 1), frontier.push(target)
  for (let d = 2; frontier.length > 0; d++) {
    const next: string[] = []
    for (const name of frontier) for (const target of edges.get(name) ?? []) if (!depth.has(target)) depth.set(target, d), next.push(target)
    frontier = next
  }
  const deepest = Math.max(0, ...depth.values())
  const layers: string[][] = []
  for (const name of objects) {
    const d = depth.get(name) ?? deepest + 1
    ;(layers[d - 1] ??= []).push(name)
  }

  const widest = Math.max(0, ...layers.map((l) => (l ?? []).length))
  const width = Math.max(rootsWidth, widest * NODE_W + 2 * MARGIN, 240)
  const nodes = dict<{ x: number; y: number }>()
  const anchor = new Map<string, number>()
  for (const root of roots) anchor.set(`stack:${root.name}`, root.x + root.w / 2)
  layers.forEach((layer, i) => {
    if (layer === undefined) return
    // Barycentre ordering: place each object under the average of its parents.
    const score = (name: string): number => {
      const xs: number[] = []
      for (const [from, targets] of edges) if (targets.has(name) && anchor.has(from)) xs.push(anchor.get(from)!)
      return xs.length === 0 ? Infinity : xs.reduce((a, b) => a + b, 0) / xs.length
    }
    const order = layer.map((name, k) => ({ name, k, s: score(name) })).sort((a, b) => a.s - b.s || a.k - b.k)
    const step = (width - 2 * MARGIN) / order.length
    order.forEach(({ name }, k) => {
      nodes[name] = { x: Math.round(MARGIN + step * (k + 0.5)), y: rootsBottom + 50 + i * LAYER_H }
      anchor.set(name, nodes[name]!.x)
    })
  })
  const height = rootsBottom + 50 + Math.max(0, layers.length - 1) * LAYER_H + 40
  return { width: Math.round(width), height, roots, nodes }
}
