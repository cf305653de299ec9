using System.Text.RegularExpressions;
using KdGat.Core.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Config;

/// <summary>
/// A path in kdgat.yaml (paths.*, cache_store, params_file, inputs, outputs, code) read as a shell
/// would read it, when the configuration loads: <c>$NAME</c> and <c>${NAME}</c> are the build's
/// environment variable (KDG1025 when unset or empty, as in <c>resources:</c>), and a leading
/// <c>~</c> or <c>~/</c> is the home directory (<c>$HOME</c>); <c>~user</c> is refused (another
/// user's home is not looked up). Placeholders (<c>{dataset}</c>, <c>{vars.X}</c>) are left alone, and
/// so is a <c>$</c> not followed by a name. A directory literally named <c>$USER</c> or <c>~</c> was
/// created before. Every variable read is noted in the configuration's sources, so a loaded pipeline
/// is used again only while each has the same value (the no-op certificate's key holds the whole environment).
/// </summary>
internal static partial class PathExpansion
{
    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Reference();

    public static string Expand(YamlReader r, YamlNode node, string text, string field)
    {
        var home = "";
        if (text.StartsWith('~'))
        {
            var slash = text.IndexOf('/');
            var user = slash < 0 ? text[1..] : text[1..slash];
            if (user.Length > 0)
                throw r.Error(ErrorCodes.ConfigWrongType, node,
                    $"'{field}' starts with '~{user}': KdGat expands a leading '~' or '~/' to your home directory ($HOME), not another user's home. Write the folder's full path instead.");
            home = Variable(r, node, "HOME", field, "starts with '~' (your home directory)");
            text = text[1..];
        }
        return home + Variables(r, node, text, field);
    }

    /// <summary>
    /// Every <c>$NAME</c> and <c>${NAME}</c> in <paramref name="text"/> replaced by <see cref="Variable"/>;
    /// a <c>$</c> not followed by a name stays. Paths and <c>resources:</c> values alike (a resource has no <c>~</c>).
    /// </summary>
    internal static string Variables(YamlReader r, YamlNode node, string text, string field) =>
        text.Contains('$') ? Reference().Replace(text, m =>
        {
            var name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            return Variable(r, node, name, field, $"uses {m.Value}");
        }) : text;

    /// <summary>The variable's value, noted in the configuration's sources; KDG1025 at the node when it is unset or empty (paths and resources alike).</summary>
    internal static string Variable(YamlReader r, YamlNode node, string name, string field, string uses)
    {
        var value = Environment.GetEnvironmentVariable(name);
        r.Sources?.AddEnvironment(name, value);
        return string.IsNullOrEmpty(value)
            ? throw r.Error(ErrorCodes.ResourceVariableUnset, node, $"'{field}' {uses}, but the environment variable {name} is not set (or is empty). " +
                $"Set it before the build (export {name}=...) or write the value out in the configuration.")
            : value;
    }
}
