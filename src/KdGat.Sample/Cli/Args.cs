using KdGat.Sample.Common;

namespace KdGat.Sample.Cli;

/// <summary>
/// "--name value" options after the verb. Strict on purpose: a misspelt option silently ignored
/// would train with defaults and still look like success.
/// </summary>
internal sealed class Args
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly string _verb;

    private Args(string verb) => _verb = verb;

    public static Args Parse(string verb, IReadOnlyList<string> args, IReadOnlyCollection<string> known)
    {
        var parsed = new Args(verb);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
                throw new SampleError($"unexpected argument '{a}' for '{verb}'", SampleError.CommandLine, $"options are {Known(known)}");
            var name = a[2..];
            if (!known.Contains(name))
                throw new SampleError($"unknown option '{a}' for '{verb}'", SampleError.CommandLine, $"options are {Known(known)}");
            if (i + 1 >= args.Count || args[i + 1].Length == 0)
                throw new SampleError($"option '{a}' needs a value", SampleError.CommandLine, $"pass {a} VALUE");
            if (!parsed._values.TryAdd(name, args[++i]))
                throw new SampleError($"option '{a}' given twice", SampleError.CommandLine, "pass it once");
        }
        return parsed;
    }

    public string Required(string name) =>
        _values.TryGetValue(name, out var v) ? v
            : throw new SampleError($"missing option --{name} for '{_verb}'", SampleError.CommandLine, $"pass --{name} (usage: dotnet KdGat.Sample.dll help)");

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    private static string Known(IEnumerable<string> known) => string.Join(", ", known.Select(k => "--" + k));
}
