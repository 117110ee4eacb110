using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>Named DynMoE configurations for ablations (<c>dynmoe benchmark --variants</c>): each changes one option from the defaults.</summary>
    public static class DynMoEVariantCatalog
    {
        private static readonly (string Name, string Description, Action<DynMoETrainerOptionsBase> Configure)[] Entries =
        {
            ("window-full-epoch", "adaptation records the whole epoch (AdaptationSchedule.PerEpochWindow(0, 1))", o => o.Adaptation = AdaptationSchedule.PerEpochWindow(0, 1)),
            ("no-adaptation", "top-any gating with a fixed expert set (AdaptationSchedule.Off)", o => o.Adaptation = AdaptationSchedule.Off),
        };

        /// <summary>Known variant names.</summary>
        public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

        /// <summary>One line per variant: name and what it changes.</summary>
        public static IReadOnlyList<string> Describe() => Entries.Select(e => $"{e.Name}: {e.Description}").ToArray();

        /// <summary>Parses a comma-separated list of names, or "all".</summary>
        /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
        public static IReadOnlyList<DynMoEVariant> Parse(string names)
        {
            ArgumentNullException.ThrowIfNull(names);
            var wanted = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (wanted.Length == 1 && wanted[0].Equals("all", StringComparison.OrdinalIgnoreCase))
                return Entries.Select(e => new DynMoEVariant(e.Name, e.Configure)).ToArray();
            var result = new List<DynMoEVariant>();
            foreach (var w in wanted)
            {
                var entry = Entries.FirstOrDefault(e => e.Name.Equals(w, StringComparison.OrdinalIgnoreCase));
                if (entry.Name is null)
                    throw new ArgumentException($"Unknown DynMoE variant '{w}'. Known: {string.Join(", ", Names)}, or 'all'.", nameof(names));
                result.Add(new DynMoEVariant(entry.Name, entry.Configure));
            }
            return result;
        }
    }
}
