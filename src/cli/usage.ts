// What `merge-studio --help`, `merge-studio <command> --help` and `--version` print. Kept apart
// from main.ts so the help reads as one text and the commands' code stays about the commands.
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;

export const COMMANDS = ['merge', 'apply', 'inspect', 'eval'] as const;
export type Command = (typeof COMMANDS)[number];

const COMMAND_USAGE: Record<Command, string> = {
  merge: `usage:
  merge-studio merge --base FILE --task NAME=FILE --task NAME=FILE [...] --out DIR
                     [--method NAME] [--lambda X] [--topk X] [--rescale tensor-mean|global]
                     [--param KEY=VALUE ...] [--seed N]
                     [--budget MB] [--spill-over MB] [--shard-size GB] [--engine cpu|gpu]
                     [--no-bundle] [--json]
  merge-studio merge CONFIG.yml --out DIR [--seed N] [--json]

Merges fine-tunes of one base; writes OUT/<task>.<format> for each task (and, for EMR,
OUT/emr-bundle.safetensors). A FILE is a .safetensors, a sharded *.index.json, an .onnx, a PyTorch
.bin/.pt/.pth/.ckpt, a PEFT adapter folder, or a folder holding one; or a Hugging Face Hub repo,
hf://org/name[@rev][/folder] (HF_ENDPOINT and HF_TOKEN as huggingface_hub reads them), or an
https:// file on a server that answers range requests: only headers are read until the merge.

  --method NAME             emr (EMR-Merging, default), ta, ties (the TIES paper's; also ties_paper), avg,
                            or mergekit's: task_arithmetic, ties, dare_ties, dare_linear, breadcrumbs,
                            breadcrumbs_ties, della, della_linear, linear, model_stock, slerp (one
                            --task: the base to it), multislerp, nuslerp (two --task) (docs/merge.md)
                            or FusionBench's spectral ones: tsv_m, iso_c, iso_cts (an SVD per 2-D weight)
                            the per-task ones: tall_mask, consensus_ta, consensus_ties, t_switch, tsv_c
  --lambda X                ta: scale of the summed task vectors (default 0.3); ties, mergekit's: (default 1)
                            tall_mask: the masks' λ_t (default 1); consensus_*: α (default 0.3)
  --topk X                  ties (paper): fraction of each task vector kept (default 0.2)
  --rescale MODE            EMR's rescalers: tensor-mean (the paper's, default) or global
  --param KEY=VALUE         mergekit's parameters, for every model: weight, density, gamma, epsilon,
                            normalize, rescale, int8_mask, filter_wise (true/false), t, eps,
                            normalize_weights, nuslerp_row_wise, nuslerp_flatten; ties with one
                            is mergekit's; tsv_m: alpha; iso_c, iso_cts: scaling_factor; iso_cts:
                            common_space_fraction; tall_base=task_arithmetic|ties (tall_mask), tall_lambda=X
                            (consensus_*: the TALL masks' λ), drop_ratio=X (t_switch, default 0.6),
                            sv_reduction=X (tsv_c: the share of each 2-D τ's singular values kept,
                            default 1/N)
  --seed N                  dare_*, della*: the seed of the random drops (default 0)
  --budget MB               bytes held for chunks in flight (default 256)
  --spill-over MB           EMR's τ_uni and masks go to a scratch file past this (default RAM/4; 0: always)
  --shard-size GB           a task model larger than this is written as shards (default 5)
  --engine cpu|gpu          the engine (default: the GPU when there is a hardware adapter)
  --no-bundle               EMR: no emr-bundle.safetensors; per-task methods: no METHOD-artefact.safetensors
  --json                    a summary as JSON on stdout
  CONFIG.yml                the merge in mergekit's vocabulary (merge_method, base_model, models)`,
  apply: `usage:
  merge-studio apply --bundle FILE --base FILE --task NAME --out FILE

Rebuilds one task's model from the base and an EMR bundle (emr-bundle.safetensors) or a per-task
method's artefact (METHOD-artefact.safetensors).`,
  inspect: `usage:
  merge-studio inspect FILE [FILE ...]

Lists each file's tensors; for a base and two or more tasks (the first FILE is the base), what would
be merged and why the rest is not.`,
  eval: `usage:
  merge-studio eval --base FILE --task NAME=MODEL --eval NAME=SET.safetensors|.jsonl|.csv [...]
                    [--graph [NAME=]GRAPH.onnx] [--tokenizer tokenizer.json] [--max-length N]
                    [--methods avg,ta,ties,emr] [--lambda X] [--topk X] [--rescale MODE]
                    [--param KEY=VALUE ...] [--seed N] [--no-route] [--csv | --json]

The accuracy table of each method on each task's labeled set, run by onnxruntime-web (wasm).

  --eval NAME=SET           a labeled set for every task: safetensors (inputs + labels), or texts
                            (.jsonl / .csv) with a tokenizer
  --graph [NAME=]GRAPH.onnx the ONNX graph that runs tasks given as safetensors (for one task or all)
  --tokenizer FILE          tokenizer.json for texts (default: the one beside the graph)
  --max-length N            tokens per text
  --methods LIST            the rows to compute (default avg,ta,ties,emr): any name merge --method
                            takes (merge --help); slerp wants one --task, nuslerp two
  --lambda, --topk, --rescale, --param KEY=VALUE, --seed
                            as merge's, each applied to the listed methods that take it (refused
                            when none does); tall_mask's and consensus_*'s λ are chosen on the sets
  --no-route                no routed EMR row
  --csv | --json            the table as CSV or JSON (default: Markdown)`,
};

export const USAGE = `usage:
  merge-studio merge --base FILE --task NAME=FILE --task NAME=FILE [...] --out DIR
                     [--method NAME] [--lambda X] [--topk X] [--rescale tensor-mean|global]
                     [--param KEY=VALUE ...] [--seed N]
                     [--budget MB] [--spill-over MB] [--shard-size GB] [--engine cpu|gpu]
                     [--no-bundle] [--json]
  merge-studio merge CONFIG.yml --out DIR [--seed N] [--json]
  merge-studio apply --bundle FILE --base FILE --task NAME --out FILE
  merge-studio eval --base FILE --task NAME=MODEL --eval NAME=SET.safetensors|.jsonl|.csv [...]
                    [--graph [NAME=]GRAPH.onnx] [--tokenizer tokenizer.json] [--max-length N]
                    [--methods avg,ta,ties,emr] [--lambda X] [--topk X] [--rescale MODE]
                    [--param KEY=VALUE ...] [--seed N] [--no-route] [--csv | --json]
  merge-studio inspect FILE [FILE ...]
  merge-studio <command> --help | --help | --version`;

const isCommand = (c: string | undefined): c is Command => COMMANDS.includes(c as Command);

/**
 * The text to print, when `argv` asks for help or the version (`--help`/`-h` after a
 * command, `help [COMMAND]`, `--version`); otherwise undefined and the command runs.
 */
export function helpFor(argv: readonly string[]): string | undefined {
  const [command, ...rest] = argv;
  if (command === '--version') return VERSION;
  if (command === '--help' || command === '-h') return USAGE;
  if (command === 'help') return isCommand(rest[0]) ? COMMAND_USAGE[rest[0]] : USAGE;
  // After `--`, a `--help` is an argument, not a request for help.
  const flags = rest.slice(0, rest.includes('--') ? rest.indexOf('--') : rest.length);
  if (isCommand(command) && (flags.includes('--help') || flags.includes('-h'))) return COMMAND_USAGE[command];
  return undefined;
}
