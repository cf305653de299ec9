using System.Xml;
using System.Xml.Linq;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>A place in a project file: 1-based line and column (the column of the element's '&lt;').</summary>
internal sealed record ProjectPlace(string File, int Line, int Column);

/// <summary>
/// Where a stage's target and its KdGatStage item are in the pipeline project, for errors that ask
/// for an edit there (KDG1006, KDG1201, KDG1202, KDG6001). MSBuild hands tasks items without XML positions, so this
/// reads the project file itself (System.Xml.Linq with line info; no DTD, bounded size). Only what is
/// written literally is found: a <c>&lt;KdGatStage Include="NAME"&gt;</c> in a <c>&lt;Target&gt;</c> of
/// that file (names separated by ';' count). A stage target imported from another file, an Include
/// made from a property, or a file that cannot be read gives null: the error then names the file only.
/// </summary>
internal static class StageTargets
{
    /// <summary>A larger project file is not read for a position (no project is that big).</summary>
    internal const long MaxBytes = 4 * 1024 * 1024;

    /// <summary>The KdGatStage item that declares <paramref name="stage"/> and the target around it, or null.</summary>
    public static (ProjectPlace Item, ProjectPlace Target)? Find(string projectFile, string stage) =>
        FindAll(projectFile, stage).FirstOrDefault() is { Item: not null } first ? (first.Item, first.Target) : null;

    /// <summary>
    /// Every KdGatStage item that declares <paramref name="stage"/>, with the target around it, its
    /// Needs as written (split at ';') and the names of its metadata (attributes and child elements),
    /// in file order: of several declarations, the one an error is about is the one with its Needs
    /// (KDG1201, KDG1202) or its metadata (KDG1214), not the first in the file.
    /// </summary>
    public static IEnumerable<(ProjectPlace Item, ProjectPlace Target, string[] Needs, string[] Metadata)> FindAll(string projectFile, string stage)
    {
        foreach (var (item, target) in Declarations(Read(projectFile), stage))
            yield return (At(projectFile, item), At(projectFile, target),
                ((string?)item.Attribute("Needs") ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                [.. item.Attributes().Select(a => a.Name.LocalName).Where(n => n is not ("Include" or "Exclude" or "Remove" or "Update" or "Condition")),
                 .. item.Elements().Select(e => e.Name.LocalName)]);
    }

    /// <summary>The target a KdGatStageDefinition names: its StageTarget metadata, or the stage's own name without one (as _KdGatStageTargetAlone reads it).</summary>
    public static string TargetOf(string stage, string? stageTarget) => stageTarget?.Trim() is { Length: > 0 } t ? t : stage;

    /// <summary>
    /// KDG1223, a warning: a KdGatStageDefinition names a stage target (its StageTarget, or the stage's
    /// own name without one) that no target of <paramref name="files"/> (the project file first, then the
    /// KdGatGraphFile items) has, while its stage is declared in a target of another name there. The
    /// definitions are how MSBuild knows a stage target before the plan (KDG1216 for -t:prep_stage
    /// alone, which otherwise ran nothing and succeeded), so a stale or misspelt one is said. Not an
    /// error: the target may be in a file the project imports that KdGat does not read (a wrapper
    /// target around the declaring one; a review), which the warning says to declare as a
    /// KdGatGraphFile. Said only when that declaring target is found. Reads the files' text first and
    /// parses XML only when a definition's name is not in it as a Name="..." (the plan of every build
    /// that is not a certified no-op passes here).
    /// </summary>
    public static Diagnostic? UndefinedStageTarget(IReadOnlyList<string> files, IReadOnlyList<(string Stage, string Target)> definitions)
    {
        if (definitions.Count == 0 || files.Count == 0) return null;
        var texts = files.Select(ReadText).ToArray();
        var unseen = definitions.Where(d => !texts.Any(t => t is not null && HasNameAttribute(t, d.Target))).ToArray();
        if (unseen.Length == 0) return null;

        var docs = files.Select(f => (File: f, Doc: Read(f))).ToArray();
        var targets = docs.SelectMany(d => d.Doc?.Root?.Descendants().Where(e => e.Name.LocalName == "Target") ?? [])
            .Select(t => ((string?)t.Attribute("Name") ?? "").Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase); // MSBuild's target names ignore case
        foreach (var (stage, target) in unseen.Where(d => !targets.Contains(d.Target)))
        {
            var declared = docs.SelectMany(d => Declarations(d.Doc, stage).Select(x => (d.File, x.Target))).FirstOrDefault();
            if (declared.Target is null) continue;
            var name = ((string?)declared.Target.Attribute("Name") ?? "").Trim();
            var where = At(declared.File, declared.Target);
            var read = string.Join(", ", files.Select(Path.GetFileName));
            var message = $"the KdGatStageDefinition item of stage '{stage}' names the stage target '{target}' (its StageTarget, or the stage's own name when it has none), " +
                $"which is in none of the files KdGat reads ({read}); stage {stage} is declared in the target '{name}' ({where.File}({where.Line},{where.Column})). " +
                $"If '{target}' is misspelt or was renamed, set StageTarget=\"{name}\" on that KdGatStageDefinition item (or rename the target): the definitions tell KdGat which targets are stage targets, " +
                $"so with a wrong one -t:{name} alone would run nothing and say nothing instead of stopping with KDG1216. " +
                $"If '{target}' is defined in a file the project imports, add that file as <KdGatGraphFile Include=\"...\" />, which also lets the no-op certificate see its edits.";
            // At the definition (the edit to make), when it is written in one of the files.
            var at = docs.Select(d => d.Doc?.Root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "KdGatStageDefinition" && Includes(e, stage)) is { } item ? At(d.File, item) : null)
                .FirstOrDefault(p => p is not null);
            return at is null
                ? new Diagnostic(Severity.Warning, ErrorCodes.UndefinedStageTarget, message, files[0])
                : new Diagnostic(Severity.Warning, ErrorCodes.UndefinedStageTarget, message, at.File, at.Line, at.Column);
        }
        return null;
    }

    /// <summary>
    /// KDG1212 for a stage target that <paramref name="listed"/> (AllStagesDependsOn) names while no
    /// KdGatStageDefinition names it or its stage. The flows that only collect the stages (Explain,
    /// Status, Clean, ...) run just the listed targets a definition names, so such a target counted as
    /// one of the user's there: Explain showed the other stages and a KDG1012 warning, Status and Clean
    /// left the stage out without a word, while Evaluate, which runs it, stopped with KDG1212 (a review).
    /// MSBuild shows no target's body at evaluation and running it to see would run the user's targets
    /// too, so the plan (of builds too) reads the files instead: a listed target written in
    /// <paramref name="files"/> whose body declares a KdGatStage item, or one written in none of them
    /// (imported from a file KdGat does not read) with the name of a stage of kdgat.yaml (<paramref name="config"/>
    /// is loaded only then). Null without definitions (then every listed target is collected).
    /// </summary>
    public static KdgException? UndefinedListedStage(IReadOnlyList<string> files, IEnumerable<string> listed,
        IReadOnlyList<(string Stage, string Target)> definitions, Func<PipelineConfig> config, string pipelineFile)
    {
        if (definitions.Count == 0) return null;
        // MSBuild's target names ignore case; stage names do not.
        var own = listed.Select(t => t.Trim()).Where(t => t.Length > 0 && !definitions.Any(d => string.Equals(d.Target, t, StringComparison.OrdinalIgnoreCase)))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (own.Length == 0) return null;
        var defined = definitions.Select(d => d.Stage).ToHashSet(StringComparer.Ordinal);
        var docs = files.Select(f => (File: f, Doc: Read(f))).ToArray();
        foreach (var target in own)
        {
            // The last definition of a target is the one MSBuild keeps.
            var written = docs.SelectMany(d => (d.Doc?.Root?.Elements() ?? []).Where(e => e.Name.LocalName == "Target" && string.Equals(((string?)e.Attribute("Name") ?? "").Trim(), target, StringComparison.OrdinalIgnoreCase))
                .Select(e => (d.File, Element: e))).LastOrDefault();
            string[] stages;
            ProjectPlace? at;
            if (written.Element is not null)
            {
                // Not a conditional declaration (an optional stage whose definition has the same condition, off in this build:
                // a review found it refused where it had built the other stages): the evaluated definitions have no such
                // stage, and the text cannot tell whether the condition holds; if the target runs, KDG1212 stops it there.
                stages = [.. written.Element.Descendants().Where(e => e.Name.LocalName == "KdGatStage" && !e.AncestorsAndSelf().Any(a => a.Attribute("Condition") is not null))
                    .SelectMany(e => ((string?)e.Attribute("Include") ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    .Where(s => s.IndexOfAny(['$', '@', '%']) < 0 && !defined.Contains(s)).Distinct(StringComparer.Ordinal)];
                at = At(written.File, written.Element);
            }
            else
            {
                var yaml = config();
                stages = [.. yaml.Stages.Keys.Where(s => string.Equals(s, target, StringComparison.OrdinalIgnoreCase) && !defined.Contains(s))];
                at = stages.Length > 0 ? new ProjectPlace(yaml.File, yaml.Stages[stages[0]].Line, yaml.Stages[stages[0]].Column) : null;
            }
            if (stages.Length == 0 || at is null) continue;
            var add = string.Join(" and ", stages.Select(s => string.Equals(s, target, StringComparison.OrdinalIgnoreCase)
                ? $"<KdGatStageDefinition Include=\"{s}\" />" : $"<KdGatStageDefinition Include=\"{s}\" StageTarget=\"{target}\" />"));
            var project = Path.GetFileName(pipelineFile);
            return new KdgException(ErrorCodes.StageNotDefined,
                $"stage(s) {string.Join(", ", stages)} have a target but no KdGatStageDefinition item: AllStagesDependsOn (by default EvaluateDependsOn) names their target '{target}', " +
                "and the targets that only collect the stages (Explain, Status, Clean, Graph, ...) run only the listed targets a definition names, so they would leave the stage out while a build runs it. " +
                $"Add {add} to the ItemGroup at the top of {project}.",
                at.File, at.Line, at.Column);
        }
        return null;
    }

    /// <summary>
    /// KDG1215 for a stage target (a target that declares a KdGatStage item) named like one of
    /// <paramref name="reserved"/>, KdGat's and MSBuild's own targets, in any case. The targets refuse
    /// such a name where a *DependsOn list or a KdGatStageDefinition names it; a project without
    /// definitions that reaches it through DependsOnTargets got MSBuild's uncoded MSB4006 ('evaluate')
    /// or Train's KDG1221 though no one asked for Train ('train'). The plan asks this before the stage
    /// targets run (not on a certified no-op); text first, XML only for a file with such a Name.
    /// </summary>
    public static KdgException? ReservedStageTarget(IReadOnlyList<string> files, IReadOnlyCollection<string> reserved)
    {
        foreach (var file in files)
        {
            if (ReadText(file) is not { } text || !text.Contains("<KdGatStage", StringComparison.Ordinal) || !reserved.Any(n => HasNameAttribute(text, n))) continue;
            var clash = Read(file)?.Root?.Descendants().FirstOrDefault(t => t.Name.LocalName == "Target"
                && reserved.Contains(((string?)t.Attribute("Name") ?? "").Trim(), StringComparer.OrdinalIgnoreCase)
                && t.Descendants().Any(e => e.Name.LocalName == "KdGatStage"));
            if (clash is null) continue;
            var name = ((string?)clash.Attribute("Name") ?? "").Trim();
            var at = At(file, clash);
            return new KdgException(ErrorCodes.ReservedStageTargetName,
                $"the stage target '{name}' has the name of one of KdGat's or MSBuild's own targets (target names ignore case), so it is replaced by that target: " +
                $"the build would go round in a circle (MSB4006) or run KdGat's target in its place. Rename it (e.g. {name}_stage; the stage in kdgat.yaml and its KdGatStage item keep their name), " +
                $"name the new target where the old one was named (DependsOnTargets, *DependsOn lists), and give its stage <KdGatStageDefinition Include=\"STAGE\" StageTarget=\"{name}_stage\" />.",
                at.File, at.Line, at.Column);
        }
        return null;
    }

    /// <summary>Whether <paramref name="text"/> has <c>Name="NAME"</c> (or single quotes) in any case, after whitespace: not PropertyName="NAME".</summary>
    private static bool HasNameAttribute(string text, string name)
    {
        foreach (var quote in new[] { "\"", "'" })
        {
            var needle = "Name=" + quote + name + quote;
            for (var at = text.IndexOf(needle, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(needle, at + 1, StringComparison.OrdinalIgnoreCase))
                if (at > 0 && char.IsWhiteSpace(text[at - 1])) return true;
        }
        return false;
    }

    /// <summary>Every KdGatStage item in a target of <paramref name="doc"/> that declares <paramref name="stage"/> (names separated by ';' count), with that target.</summary>
    private static IEnumerable<(XElement Item, XElement Target)> Declarations(XDocument? doc, string stage)
    {
        if (doc?.Root is null) yield break;
        foreach (var item in doc.Root.Descendants().Where(e => e.Name.LocalName == "KdGatStage" && Includes(e, stage)))
        {
            var target = item.Ancestors().FirstOrDefault(e => e.Name.LocalName == "Target");
            if (target is not null) yield return (item, target); // an item outside a target is not a stage declaration
        }
    }

    /// <summary>
    /// Where the first element named <paramref name="name"/> (in any case: MSBuild's property names ignore it)
    /// that <paramref name="matches"/> is written in <paramref name="file"/>, the last one with <paramref name="last"/>
    /// (MSBuild's last assignment of a property wins); comments do not count. Null when it is not there or the
    /// file cannot be read or parsed: an error then names the file alone.
    /// </summary>
    public static ProjectPlace? Place(string? file, string name, Func<XElement, bool>? matches = null, bool last = false)
    {
        if (file is null || Read(file)?.Root is not { } root) return null;
        var found = root.DescendantsAndSelf().Where(e => string.Equals(e.Name.LocalName, name, StringComparison.OrdinalIgnoreCase) && (matches?.Invoke(e) ?? true));
        return (last ? found.LastOrDefault() : found.FirstOrDefault()) is { } e ? At(file, e) : null;
    }

    /// <summary>Whether the ';' list in <paramref name="attribute"/> of <paramref name="e"/> holds <paramref name="name"/>.</summary>
    public static bool Lists(XElement e, string attribute, string name) =>
        ((string?)e.Attribute(attribute) ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains(name, StringComparer.Ordinal);

    private static bool Includes(XElement item, string name) => Lists(item, "Include", name);

    private static ProjectPlace At(string file, XElement e)
    {
        var info = (IXmlLineInfo)e;
        // LinePosition is the column of the element's name; the '<' before it is where MSBuild and editors point.
        return new(file, info.LineNumber, Math.Max(1, info.LinePosition - 1));
    }

    private static XDocument? Read(string file)
    {
        try
        {
            if (Bytes(file) is not { } bytes) return null;
            // Parsed without a DTD.
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxBytes };
            using var reader = XmlReader.Create(new MemoryStream(bytes), settings);
            return XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException)
        {
            return null;
        }
    }

    private static string? ReadText(string file) => Bytes(file) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    /// <summary>A regular file of bounded size only (a FIFO would block the open), or null.</summary>
    private static byte[]? Bytes(string file)
    {
        try
        {
            return File.Exists(file) ? SmallFile.ReadAllBytes(file, MaxBytes) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
