using System.Globalization;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;
using Microsoft.Build.Framework;

namespace KdGat.Tasks;

/// <summary>
/// Parameters every KdGat task shares: where the pipeline is, its config, the stage targets that
/// ran (in order, with their Needs), and -p:Dataset. Turns user errors into one logged line.
/// </summary>
public abstract class PipelineTask : Microsoft.Build.Utilities.Task
{
    [Required] public string Root { get; set; } = "";
    [Required] public string ConfigFile { get; set; } = "";
    [Required] public string ToolsDir { get; set; } = "";
    public string PipelineFile { get; set; } = "";
    /// <summary>Stage items: Include = stage name, metadata Needs = ';' list of upstream stages.</summary>
    public ITaskItem[] Stages { get; set; } = [];
    public string? Dataset { get; set; }
    /// <summary>-p:Sweep: grid points to select ("seed=1", "seed=1;lr=0.003").</summary>
    public string? Sweep { get; set; }
    /// <summary>
    /// The KdGat properties the targets read themselves (KdGatConfig, KdGatToolsDir, ...: Include = name, metadata
    /// Value = the property as the project holds it), which reach no parameter unchanged: for the KDG1225 check alone.
    /// </summary>
    public ITaskItem[] TargetProperties { get; set; } = [];

    protected BuildRequest Request(BuildMode mode = BuildMode.Build) => new()
    {
        Root = Root,
        ConfigFile = ConfigFile,
        ToolsDir = ToolsDir,
        PipelineFile = PipelineFile,
        Stages = Stages.Select(Declaration).ToArray(),
        Datasets = Dataset,
        Sweep = Sweep,
        GlobalPropertyNames = GlobalPropertyNames,
        FromEnvironment = FromEnvironment,
        Mode = mode,
    };

    private string[] GlobalPropertyNames => BuildEngine is IBuildEngine6 e6 ? [.. e6.GetGlobalProperties().Keys] : [];

    /// <summary>This task's KdGat properties that have an environment variable's value (KDG1225), for the request and for <see cref="Given"/>.</summary>
    private IReadOnlyList<EnvironmentProperty> FromEnvironment =>
        _fromEnvironment ??= EnvironmentProperties.Find(Environment.GetEnvironmentVariables(), GlobalPropertyNames, ParameterValue);
    private IReadOnlyList<EnvironmentProperty>? _fromEnvironment;

    /// <summary>"-p:Wait", or the environment variable WAIT that gave the value: what an error about the value blames.</summary>
    private protected string Given(string property) => EnvironmentProperties.Given(FromEnvironment, property);

    /// <summary>
    /// The value of this task's parameter that holds a KdGat property (the targets pass Stage="$(Stage)", and
    /// MaxSize="$(CacheMaxSize)": <see cref="FromPropertyAttribute"/>), else of the <see cref="TargetProperties"/> item
    /// named so; null when the task reads it nowhere. Reflection, but only for a property an environment variable is named like.
    /// </summary>
    private string? ParameterValue(string property) =>
        // The most derived one, should a task hide a parameter of its base (GetProperty would throw).
        GetType().GetProperties().FirstOrDefault(p => (p.Name == property || p.GetCustomAttributes(typeof(FromPropertyAttribute), true).Any(a => ((FromPropertyAttribute)a).Property == property))
                                                      && p.PropertyType == typeof(string) && p.CanWrite) is { } p ? p.GetValue(this) as string
        : TargetProperties.FirstOrDefault(i => string.Equals(i.ItemSpec, property, StringComparison.OrdinalIgnoreCase)) is { } item ? item.GetMetadata("Value")
        : null;

    /// <summary>
    /// A stage item as the core sees it. Needs is the one metadata KdGat reads, so any other is an
    /// error: a misspelt one (Need, needs_) would silently drop the dependency, and the downstream
    /// would stay up to date on its upstream's old result (found by review).
    /// </summary>
    private static StageDeclaration Declaration(ITaskItem i)
    {
        // MSBuild's own: MSBuildSourceProjectFile and MSBuildSourceTargetName on items an MSBuild task returned (the plan's second instance).
        foreach (string name in i.CloneCustomMetadata().Keys)
            if (!string.Equals(name, "Needs", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(name, "OriginalItemSpec", StringComparison.OrdinalIgnoreCase))
            {
                var file = new[] { i.GetMetadata("MSBuildSourceProjectFile"), i.GetMetadata("DefiningProjectFullPath") }.FirstOrDefault(f => f.Length > 0);
                var message = $"the KdGatStage item of stage '{i.ItemSpec}' has metadata '{name}', which KdGat does not read: a stage item has only Needs (the ';' list of stages it reads from). " +
                    $"Rename it to Needs{(name.StartsWith("need", StringComparison.OrdinalIgnoreCase) ? "" : ", or remove it")} in the stage's target.";
                // At the item that has it, when it is written in that file (a user review: the file alone).
                var at = file is null ? null
                    : StageTargets.FindAll(file, i.ItemSpec).Where(d => d.Metadata.Contains(name, StringComparer.OrdinalIgnoreCase)).Select(d => d.Item).FirstOrDefault();
                throw at is not null
                    ? new KdgException(ErrorCodes.UnknownStageMetadata, message, at.File, at.Line, at.Column)
                    : new KdgException(ErrorCodes.UnknownStageMetadata, message, file);
            }
        return new StageDeclaration(i.ItemSpec, i.GetMetadata("Needs").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>
    /// Only what needs no assembly but this one and MSBuild's: a tools folder without KdGat.Core (or a
    /// package beside it), or with one cut off, fails here as the runtime compiles <see cref="ExecuteWithTools"/>,
    /// before any of its handlers exists (MSBuild's MSB4018 and its stack trace, a review). That is KDG1206.
    /// </summary>
    public sealed override bool Execute()
    {
        try
        {
            return ExecuteWithTools();
        }
        catch (Exception e) when (ToolLoadFailure.Of(e) is { } what)
        {
            Log.LogError(null, "KDG1206", null, string.IsNullOrEmpty(PipelineFile) ? null : PipelineFile, 0, 0, 0, 0,
                $"KdGat's tools in '{ToolsDir}' are incomplete or damaged: {what}, so {GetType().Name} could not run (as after a copy or a CI cache restored in part). " +
                "Delete that folder and build again (the bootstrap builds it again; with KdGat.Sdk, delete the package's folder in the NuGet cache and restore), and drop a CI cache entry of it.");
            return false;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private bool ExecuteWithTools()
    {
        var log = new MSBuildLog(Log, BuildEngine, PipelineFile);
        // KdGat's text is English and its files are for machines: numbers keep the decimal point under
        // a login shell's LANG=de_DE (MSBuild's process takes its culture from there; "13 ran in 1,9 s"
        // beside "ran in 0.1 s"), and no casing or parsing follows tr_TR. Flows into the core's async
        // work and the threads it starts; MSBuild's culture is put back when the task returns.
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            // Tests only: this task fails as a bug in it would (InternalErrorTests).
            if (Environment.GetEnvironmentVariable("KDGAT_TEST_INTERNAL_ERROR") == GetType().Name)
                throw new InvalidOperationException("KDGAT_TEST_INTERNAL_ERROR is set");
            RequireLoadedToolsCurrent();
            ConfigLoader.RequirePath(ConfigFile); // every task combines it with paths first
            // From now on no SIGTERM ends this build as a silent success.
            using (TerminationSignals.During(this is ICancelableTask cancelable ? cancelable.Cancel : null, GetType().Name))
                return Run(log) && !Log.HasLoggedErrors;
        }
        catch (KdgException e)
        {
            log.Report(e);
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && ToolLoadFailure.Of(e) is null)
        {
            // A path the user chose (-p:ReportFile, -p:KdGatIndex, the config's paths) cannot be used.
            log.Report(new KdgException(ErrorCodes.FileAccess, $"{e.Message} Check the path and its permissions, then run again.{Core.IO.GroupAccess.Advice(e)}"));
            return false;
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or a termination signal reached a wait the core does not turn into its own KDG3004 line.
            log.Report(new KdgException(ErrorCodes.StageCancelled,
                $"KdGat: {GetType().Name} was cancelled (Ctrl+C or a termination signal) before it finished; what had finished is kept, the rest is not recorded. Build again to go on."));
            return false;
        }
        catch (Exception e) when (ToolLoadFailure.Of(e) is null)
        {
            // A bug in KdGat: one line with a code on the console, the stack trace in a file (and at
            // detailed verbosity) instead of MSBuild's MSB4018 wall of frames.
            Log.LogMessage(MessageImportance.Low, e.ToString());
            var crash = WriteCrashFile(e);
            log.Report(new KdgException(ErrorCodes.InternalError,
                $"{GetType().Name} failed unexpectedly ({e.GetType().Name}: {e.Message}). This is a bug in KdGat, not in your pipeline. " +
                (crash is null ? "Run again with -v:diag or -bl for the stack trace, and report it." : $"The stack trace is in {crash}; please report it with that file.")));
            return false;
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    /// <summary>
    /// KDG1209 when the code this process runs is no longer the code in the tools dir: a long-lived
    /// MSBuild process loaded it before the bootstrap rebuilt the tools, and MSBuild never loads a
    /// path twice. Every assembly loaded from the tools dir counts (KdGat's and the packages beside
    /// them: a package's patch release can leave KdGat.Core's own build unchanged). Checked before
    /// anything else, so nothing runs with the old rules.
    /// </summary>
    private void RequireLoadedToolsCurrent()
    {
        var loaded = System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(PipelineTask).Assembly)?.Assemblies
                     ?? [typeof(PipelineTask).Assembly, typeof(BuildSession).Assembly];
        var replaced = loaded.Select(a => LoadedAssembly.ReplacedIn(a, ToolsDir)).FirstOrDefault(r => r is not null);
        if (replaced is not null)
            throw new KdgException(ErrorCodes.ToolsReloadNeeded,
                $"this MSBuild process loaded KdGat's tasks before {replaced} was rebuilt, and MSBuild keeps a loaded task assembly for the life of its process " +
                "(the MSBuild server, a reused node or an IDE), so this build would run the old code. Nothing was run. " +
                "Stop that process (`dotnet build-server shutdown`, or restart the IDE) and build again.");
    }

    /// <summary>The exception's full text in .kdgat/crash/ under the pipeline root; null when that cannot be written.</summary>
    private string? WriteCrashFile(Exception e)
    {
        try
        {
            var dir = Path.Combine(Path.GetFullPath(Root), PipelineLayout.StateDirName, "crash");
            Directory.CreateDirectory(dir);
            var file = Path.Combine(dir, $"{TimeProvider.System.GetUtcNow():yyyyMMddTHHmmssfffZ}-{GetType().Name}.txt");
            File.WriteAllText(file, e.ToString() + Environment.NewLine);
            return file;
        }
        catch (Exception) { return null; } // the error line still says what happened
    }

    private protected abstract bool Run(MSBuildLog log);

    private static readonly object SessionLock = new();
    // Per KdGat.Core build: tasks of another KdGat version in the same build keep their own.
    private static readonly string SessionKey = "KdGat.BuildSession:" + typeof(BuildSession).Assembly.ManifestModule.ModuleVersionId;

    /// <summary>
    /// This MSBuild build's <see cref="BuildSession"/>: the plan task leaves the loaded pipeline,
    /// hash cache and parsed manifests for the build task, which checks each before use. Build
    /// lifetime (a reused node starts the next build afresh); MSBuild may drop it under memory pressure.
    /// </summary>
    private protected BuildSession Session()
    {
        if (BuildEngine is not IBuildEngine4 engine) return new BuildSession();
        lock (SessionLock)
        {
            if (engine.GetRegisteredTaskObject(SessionKey, RegisteredTaskObjectLifetime.Build) is BuildSession s) return s;
            var session = new BuildSession();
            engine.RegisterTaskObject(SessionKey, session, RegisteredTaskObjectLifetime.Build, allowEarlyCollection: true);
            return session;
        }
    }

    /// <summary>
    /// How this build only asks whether it is up to date, the CI gate ("-question", or "-p:FailIfStale=true",
    /// which gates every target that would change something as -question does), or null: a build and Clean
    /// read it the same way.
    /// </summary>
    private protected string? GateAsked(bool failIfNotIncremental, string? failIfStale) =>
        failIfNotIncremental ? "-question" : ParseBool("FailIfStale", failIfStale, false) ? EnvironmentProperties.Setting(FromEnvironment, "FailIfStale", "true") : null;

    /// <summary>
    /// MSBuild's -question answer for a task with work to do (KDG1218): it says what it <paramref name="would"/> do
    /// ("write .kdgat/graph.dot"), did none of it, and fails, as MSBuild's own tasks do.
    /// </summary>
    private protected static bool NotUpToDate(MSBuildLog log, string asked, string target, string would, string nothing = "changed")
    {
        log.Report(new Diagnostic(Severity.Error, ErrorCodes.QuestionWouldChange,
            $"{asked}: {target} would {would}, so it is not up to date; nothing was {nothing}. Run it without {asked} to do it."));
        return false;
    }

    protected bool ParseBool(string property, string? value, bool fallback) => YesNo.Property(property, value, fallback, Given(property));

    /// <summary>
    /// Where an HTML report goes: -p:ReportFile relative to the root, else .kdgat/report.html (the
    /// live report, Status and -t:Report share it). A directory is <paramref name="code"/>.
    /// </summary>
    /// <param name="source">Where -p:ReportFile's value came from (<see cref="Given"/>): an environment variable REPORTFILE is named as such (KDG1225).</param>
    private protected static string ReportPath(string root, string? reportFile, string code, string orElse = "", string? source = null)
    {
        var path = string.IsNullOrWhiteSpace(reportFile)
            ? Path.Combine(Path.GetFullPath(root), KdGat.Core.Pipeline.PipelineLayout.StateDirName, "report.html")
            : Path.GetFullPath(Path.Combine(root, reportFile.Trim()));
        // Without -p:ReportFile the default path is named, not an empty -p:ReportFile (a directory there was a
        // NullReferenceException, KDG9001, in every build: an edge review).
        var given = string.IsNullOrWhiteSpace(reportFile) ? null : reportFile.Trim();
        if (Directory.Exists(path))
            throw new KdgException(code, given is null
                ? $"{path} (the default report file) is a directory; remove it, or give -p:ReportFile=PATH{orElse}."
                : $"{EnvironmentProperties.WithValue(source, "ReportFile", given)} is a directory; give a file name such as {Path.Combine(given, "report.html")}{orElse}.");
        if (!KdGat.Core.IO.ReplaceableFile.MayReplace(path, KdGat.Core.IO.ReplaceableFile.HtmlSignature))
            throw new KdgException(code, given is null
                ? $"{path} (the default report file) is a file KdGat did not write, so it is not replaced. Move it away, or give -p:ReportFile=PATH{orElse}."
                : KdGat.Core.IO.ReplaceableFile.Refusal("ReportFile", given, path, source));
        return path;
    }

    /// <summary>A whole-number property (0 or more); empty gives <paramref name="fallback"/>.</summary>
    private protected int ParseCount(string property, string? value, int fallback = 0, string code = ErrorCodes.BadProperty)
    {
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        return int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new KdgException(code, $"{Given(property)} must be a whole number of 0 or more, not '{value}'.");
    }

    protected ExecutorKind? ParseExecutor(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "local" => ExecutorKind.Local,
        "slurm" => ExecutorKind.Slurm,
        _ => throw new KdgException(ErrorCodes.BadProperty, $"{Given("Executor")} must be 'local' or 'slurm', not '{value}'."),
    };
}
