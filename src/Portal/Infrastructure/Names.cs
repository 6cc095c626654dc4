using System.Text.RegularExpressions;

namespace ModelOps.Portal.Infrastructure;

/// <summary>Validation of names users type: dataset and model names, uploaded file names.</summary>
public static partial class Names
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$")]
    private static partial Regex DisplayName();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex ModelName();

    public static string Dataset(string? name)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0)
            throw PortalException.Invalid($"A dataset name is required.", "name");
        if (!DisplayName().IsMatch(trimmed) || trimmed.Contains(".."))
            throw PortalException.Invalid(
                $"Dataset name '{Printable(trimmed)}' is not allowed: use 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit.", "name");
        return trimmed;
    }

    /// <summary>Schedule names: the same rule as dataset names (they appear in links and in the audit trail).</summary>
    public static string Schedule(string? name)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0)
            throw PortalException.Invalid($"A schedule name is required.", "name");
        if (!DisplayName().IsMatch(trimmed) || trimmed.Contains(".."))
            throw PortalException.Invalid(
                $"Schedule name '{Printable(trimmed)}' is not allowed: use 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit.", "name");
        return trimmed;
    }

    /// <summary>Experiment names: shown everywhere and used in links, so printable and at most 128 characters.</summary>
    public static string Experiment(string? name)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0)
            throw PortalException.Invalid($"An experiment name is required.", "name");
        if (trimmed.Length > 128 || trimmed.Any(char.IsControl))
            throw PortalException.Invalid($"Experiment name '{Printable(trimmed)}' is not allowed: use at most 128 printable characters.", "name");
        return trimmed;
    }

    /// <summary>A run's name, trimmed to 200 printable characters; null when none was given.</summary>
    public static string? RunName(string? name)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed)) return null;
        if (trimmed.Any(char.IsControl))
            throw PortalException.Invalid($"Run name '{Printable(trimmed)}' holds control characters.", "name");
        return trimmed.Length > 200 ? trimmed[..200] : trimmed;
    }

    /// <summary>Free-text notes (Markdown is shown as text): at most 20,000 characters.</summary>
    public static string? Notes(string? notes)
    {
        if (string.IsNullOrWhiteSpace(notes)) return null;
        if (notes.Length > 20_000)
            throw PortalException.Invalid($"Notes are {notes.Length} characters; at most 20,000 are kept.", "notes");
        return notes;
    }

    public static string Model(string? name)
    {
        var trimmed = (name ?? "").Trim();
        if (!ModelName().IsMatch(trimmed) || trimmed.Contains(".."))
            throw PortalException.Invalid(
                $"Model name '{Printable(trimmed)}' is not allowed: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.", "name");
        return trimmed;
    }

    /// <summary>
    /// An uploaded file's name is only ever displayed, but one carrying a path is a sign of a hostile
    /// or broken client, so it is refused rather than silently stripped.
    /// </summary>
    public static string UploadedFile(string? fileName)
    {
        var name = fileName ?? "";
        if (name.Length == 0 || name.Length > 255)
            throw PortalException.Invalid($"The uploaded file needs a name of 1-255 characters.", "file");
        if (name.IndexOfAny(['/', '\\', '\0']) >= 0 || name.Contains("..") || name.Any(char.IsControl))
            throw PortalException.Invalid(
                $"File name '{Printable(name)}' is not allowed: it must not contain path separators, '..' or control characters.", "file");
        return name;
    }

    private static string Printable(string s)
    {
        var clean = new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return clean.Length > 80 ? clean[..80] + "…" : clean;
    }
}
