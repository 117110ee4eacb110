namespace System.Runtime.CompilerServices
{
    /// <summary>
    /// Recognised by the CoreCLR loader: lets this assembly call members of the named assembly that are not
    /// public. Kept internal so it never clashes with the same attribute in another assembly.
    /// </summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

        public string AssemblyName { get; }
    }
}
