using System;
using System.Reflection;

namespace Microsoft.ML.DynMoE.Experiments.Internal
{
    /// <summary>ML.NET's MLContext.CancelExecution is not public; AutoML calls it to stop a running trainer. We call it by reflection when present.</summary>
    internal static class MLContextCancellation
    {
        private static readonly MethodInfo? s_cancel = typeof(MLContext).GetMethod("CancelExecution",
            BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, Type.EmptyTypes, null);

        internal static void Cancel(MLContext ml)
        {
            try { s_cancel?.Invoke(ml, null); }
            catch (TargetInvocationException) { }
        }
    }
}
