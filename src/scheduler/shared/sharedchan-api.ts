// SharedChan's public surface, so that src/scheduler/index.ts exports it in one line.
export { SharedChan, type SharedChanOptions, type SharedChanState } from './sharedchan.js'
export { SharedChanValueError } from './sharedchan-codec.js'
export { SharedChanLostError } from './sharedchan-registry.js'
export { SharedChanBusyError } from './sharedchan-select.js'
