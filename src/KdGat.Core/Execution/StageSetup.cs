namespace KdGat.Core.Execution;

/// <summary>
/// A stage's setup: lines (module load, venv activation) run before its command in the same
/// shell, in a job script and locally alike. A failing line stops the attempt with its exit code.
/// No setup leaves the command, and so every existing fingerprint, unchanged.
/// </summary>
internal static class StageSetup
{
    public static string Prefix(IReadOnlyList<string> setup, string command) =>
        setup.Count == 0 ? command
            : string.Concat(setup.Select(line => "{\n" + line + "\n} || exit $?\n")) + command;
}
