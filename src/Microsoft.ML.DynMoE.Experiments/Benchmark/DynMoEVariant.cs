
namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>A named DynMoE configuration run beside DynMoE (defaults), e.g. for an ablation.</summary>
    public sealed class DynMoEVariant
    {
        /// <summary>Creates a variant.</summary>
        /// <param name="name">Short name; the candidate is reported as <c>DynMoE[name]</c>.</param>
        /// <param name="configure">Changes to the default DynMoE trainer options.</param>
        public DynMoEVariant(string name, Action<DynMoETrainerOptionsBase> configure)
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new ArgumentException("A variant needs a name.", nameof(name));
            Name = name;
            Configure = configure ?? throw new ArgumentNullException(nameof(configure));
        }

        /// <summary>Short name.</summary>
        public string Name { get; }

        /// <summary>Changes to the default options.</summary>
        public Action<DynMoETrainerOptionsBase> Configure { get; }

        /// <summary>The candidate name, <c>DynMoE[name]</c>.</summary>
        public string CandidateName => $"DynMoE[{Name}]";
    }
}
