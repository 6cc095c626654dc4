namespace ModelOps.Portal.Registry;

/// <summary>The model registry's strings: RegistryText.resx (en) and RegistryText.zh-CN.resx.</summary>
public sealed class RegistryText;
