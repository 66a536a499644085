export declare function spin(iters: number): number
export declare function timedSpin(iters: number): number
export declare function serialFib(n: number): number
export declare function add(a: number, b: number): number
