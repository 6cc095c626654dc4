using System.Globalization;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Shell;

/// <summary>What the UI shows for a failure: the service's own sentence, in the user's language.</summary>
public static class Sentences
{
    /// <summary>
    /// A <see cref="PortalException"/>'s sentence in the current UI culture (the same words the API
    /// returns for that Accept-Language); any other exception's message as it is.
    /// </summary>
    public static string Sentence(this Exception exception) =>
        exception is PortalException portal ? portal.Localized(CultureInfo.CurrentUICulture) : exception.Message;

    /// <summary>Every problem of a request checked as a whole, in the current UI culture.</summary>
    public static IReadOnlyList<string> AllSentences(this PortalException exception) =>
        exception.LocalizedErrors(CultureInfo.CurrentUICulture);
}
