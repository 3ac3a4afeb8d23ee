// PyTorch checkpoints (torch.save: zip or legacy), read by range through a restricted unpickler
// that never executes anything. Outputs of a PyTorch input are written as safetensors.
export { matchPytorch, MAX_PICKLE_BYTES, openPytorch } from './reader';
export { PICKLE_LIMITS } from './unpickler';
