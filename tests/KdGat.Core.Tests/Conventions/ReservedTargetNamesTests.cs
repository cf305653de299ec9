using System.Text.RegularExpressions;
using System.Xml.Linq;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Conventions;

/// <summary>
/// A stage target named like one of KdGat's public targets (any case) is replaced by it, so KDG1215
/// refuses the names in _KdGatReservedTargetNames. That list is written by hand: every target of
/// targets/ a user could name a stage target after (not an _underscored one) must be in it. It had
/// only some (a stage named 'compile' or 'gettargetpath' went unchecked; a review asked for all).
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReservedTargetNamesTests
{
    private static readonly string Targets = Path.Combine(RepoFiles.Root, "targets");

    [Fact]
    public void EveryPublicTargetOfTheTargets_IsAReservedStageTargetName()
    {
        var pipeline = XDocument.Load(Path.Combine(Targets, "KdGat.Pipeline.targets"));
        var reserved = pipeline.Descendants("_KdGatReservedTargetNames").Single().Value.Split('|').ToHashSet(StringComparer.OrdinalIgnoreCase);

        var missing = (from file in Directory.EnumerateFiles(Targets, "*.targets")
                       from target in XDocument.Load(file).Descendants("Target")
                       let name = (string?)target.Attribute("Name") ?? ""
                       where !name.StartsWith('_') && !reserved.Contains(name)
                       select $"{Path.GetFileName(file)}: {name}").ToArray();

        Assert.True(missing.Length == 0, "not in _KdGatReservedTargetNames:\n" + string.Join("\n", missing));
        Assert.All(reserved, name => Assert.Matches(new Regex("^[A-Za-z][A-Za-z0-9]*$"), name)); // a regex alternative and an item name each
    }
}
