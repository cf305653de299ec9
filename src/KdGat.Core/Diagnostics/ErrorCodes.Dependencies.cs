namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    /// <summary>A stage names another stage's outputs (a placeholder, an input or output path) without having it as a direct Need.</summary>
    public const string UndeclaredDependency = "KDG1011";
}
