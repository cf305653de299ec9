namespace KdGat.Sample.Cli;

internal static class Usage
{
    public const string Text = """
        usage: dotnet KdGat.Sample.dll <verb> [options]

        The bundled sample stages of the KD-GAT pipeline: synthetic CAN traffic, windowed graphs and
        tiny deterministic stand-ins for the VGAE, GAT and DQN models. Same inputs and params give
        byte-identical outputs. Every output is written to a temp name and renamed into place.

        verbs:
          generate     --dataset NAME --out DIR [--frames N]
                       write 3-5 capture files DIR/capture_NN.csv (synthetic; seeded by the dataset
                       name; each file's clock starts near 0). Only into a missing or empty DIR.
                       --frames: about N normal frames (default 18,000-24,000; attacks scale along)
          preprocess   --raw DIR --out DIR [--params FILE]
                       every *.csv in DIR, in name order -> graph cache in --out (replaced as a whole).
                       Windows never span files. params: window, stride
          autoencoder  --cache DIR --params FILE --out DIR [--teacher DIR]
                       VGAE stand-in. params: hidden, latent, lr, epochs, seed, kd_alpha
          curriculum   --cache DIR --params FILE --vgae DIR --out DIR [--teacher DIR]
                       GAT stand-in. params: hidden, lr, epochs, curriculum_stages, seed, kd_alpha, kd_temperature
          fusion       --cache DIR --params FILE --vgae DIR --gat DIR --out DIR [--teacher DIR]
                       DQN stand-in. params: episodes, lr, gamma, epsilon, seed, kd_alpha
          evaluate     --cache DIR --vgae DIR --gat DIR --dqn DIR --out DIR
                       write DIR/metrics.json (accuracy, precision, recall, f1, counts) on the test split
          help         this text

        Raw CSV: header timestamp,arbitration_id,data_field,attack; timestamp in seconds, not
        decreasing within a file; arbitration_id hex, 1-4 digits for an 11-bit ID (<= 7FF) or 5-8
        digits for a 29-bit ID (<= 1FFFFFFF); data_field 2-16 hex digits (1-8 bytes); attack 0 or 1.

        Training verbs write model.ckpt and train_log.json into --out; DIR for --vgae, --gat, --dqn and
        --teacher is a run dir holding model.ckpt. --params is the flat JSON KdGat writes (params.json).

        environment (for KdGat's executor tests):
          KDGAT_SAMPLE_ALLOC_MB=N   allocate and touch N MiB before working (out-of-memory tests)
          KDGAT_SAMPLE_SLEEP_MS=N   then sleep N ms before working (kill and cancel tests)

        exit codes: 0 ok, 2 usage or input error (one line on stderr: FILE(LINE): what; fix), 1 internal error
        """;
}
