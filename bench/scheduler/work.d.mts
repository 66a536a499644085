export declare function spin(iters: number): number
export declare function timedSpin(iters: number): number
export declare function serialFib(n: number): number
export declare function add(a: number, b: number): number
export declare function ioThenSpin(iters: number, how: number): Promise<number>
export declare function startedAfter(spawnedAt: number): number
