using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Stages;

namespace KdGat.Sample;

/// <summary>Entry point. Run is public so tests drive verbs in-process, without process startup.</summary>
public static class Program
{
    public const int ExitOk = 0;
    public const int ExitInternal = 1;
    public const int ExitUsage = 2;

    private sealed record Verb(string[] Options, Func<Args, TextWriter, int> Run);

    private static readonly Dictionary<string, Verb> Verbs = new(StringComparer.Ordinal)
    {
        ["generate"] = new(GenerateStage.Options, GenerateStage.Run),
        ["preprocess"] = new(PreprocessStage.Options, PreprocessStage.Run),
        ["autoencoder"] = new(AutoencoderStage.Options, AutoencoderStage.Run),
        ["curriculum"] = new(CurriculumStage.Options, CurriculumStage.Run),
        ["fusion"] = new(FusionStage.Options, FusionStage.Run),
        ["evaluate"] = new(EvaluateStage.Options, EvaluateStage.Run),
    };

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, stdout, stderr, Environment.GetEnvironmentVariable);

    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, Func<string, string?> env)
    {
        if (args.Length > 0 && args[0] is "help" or "--help" or "-h")
        {
            stdout.WriteLine(Usage.Text);
            return ExitOk;
        }
        if (args.Length == 0 || !Verbs.TryGetValue(args[0], out var verb))
        {
            if (args.Length > 0) stderr.WriteLine($"kdgat-sample: error: unknown verb '{args[0]}', {SampleError.CommandLine}, use one of: {string.Join(", ", Verbs.Keys)}");
            stderr.WriteLine(Usage.Text);
            return ExitUsage;
        }
        try
        {
            var parsed = Args.Parse(args[0], args[1..], verb.Options);
            using var hooks = StressHooks.Apply(env);
            return verb.Run(parsed, stdout);
        }
        catch (SampleError e)
        {
            stderr.WriteLine($"kdgat-sample: error: {e.Message}");
            return ExitUsage;
        }
        catch (Exception e)
        {
            // A bug, not a user error: keep the stack trace, it is what a fix needs. The summary
            // comes last, because KdGat shows the tail of a failed stage's stderr.
            stderr.WriteLine(e);
            stderr.WriteLine($"kdgat-sample: internal error in '{args[0]}' (a bug in the sample, stack trace above): {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            return ExitInternal;
        }
    }
}
