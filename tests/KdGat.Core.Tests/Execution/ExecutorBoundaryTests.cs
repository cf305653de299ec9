using System.Text.RegularExpressions;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution;

/// <summary>
/// Executors behind one interface: outside src/KdGat.Core/Execution nothing spells or parses the
/// journalled handle forms ("pid:", "slurm:"); the engine and tracking use <c>AttemptHandle</c>.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ExecutorBoundaryTests
{
    [Fact]
    public void HandleStrings_AppearOnlyInsideExecution()
    {
        var hits = (from f in RepoFiles.Sources()
                    let rel = f.Relative
                    where !rel.StartsWith("KdGat.Core/Execution/", StringComparison.Ordinal)
                    from line in File.ReadLines(f.Path).Select((text, i) => (text, i))
                    where Regex.IsMatch(line.text, "\"(pid|slurm):")
                    select $"{rel}:{line.i + 1}: {line.text.Trim()}").ToArray();
        Assert.True(hits.Length == 0, "handle strings outside the executors:\n" + string.Join("\n", hits));
    }
}
