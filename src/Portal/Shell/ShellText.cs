namespace ModelOps.Portal.Shell;

/// <summary>
/// The shell's strings (navigation, app bar, common actions, durations): ShellText.resx (en) and
/// ShellText.zh-CN.resx. Each feature folder has its own *Text class and resx pair.
/// </summary>
public sealed class ShellText;
