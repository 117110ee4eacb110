using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// The optimizer of MoE training: torch.optim.AdamW's update (decoupled weight decay, bias-corrected moments, no amsgrad)
/// plus what an expert set that grows during training needs. Parameters registered as one slot per expert (an index
/// along a dimension) can have that slot's moments and step count reset, a fresh Adam for a newly added expert, and its
/// updates warmed up linearly over a number of steps; each parameter group has its own learning-rate multiplier.
/// Its number arguments are Scalars held for the optimizer's lifetime or disposed right after the step, whereas
/// TorchSharp's own AdamW converts numbers to Scalars inside every step and leaves them to finalizers.
/// </summary>
internal sealed class MoEAdamW : IDisposable
{
    private readonly List<Entry> _entries = new();
    private readonly List<SlotGroup> _slotGroups = new();
    private readonly double _beta1, _beta2, _weightDecay;
    private readonly Scalar _beta1Scalar, _oneMinusBeta1, _beta2Scalar, _oneMinusBeta2, _eps, _one;
    private long _step;

    /// <summary>Creates the optimizer over parameter groups, each with a learning-rate multiplier.</summary>
    public MoEAdamW(IEnumerable<(IEnumerable<Parameter> Parameters, double LearningRateMultiplier)> groups, double learningRate,
        double weightDecay, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        LearningRate = learningRate;
        _beta1 = beta1;
        _beta2 = beta2;
        _weightDecay = weightDecay;
        _beta1Scalar = beta1.ToScalar();
        _oneMinusBeta1 = (1 - beta1).ToScalar();
        _beta2Scalar = beta2.ToScalar();
        _oneMinusBeta2 = (1 - beta2).ToScalar();
        _eps = eps.ToScalar();
        _one = 1.ToScalar(); // add_(Scalar) would pass TorchSharp's own implicit alpha of 1
        var seen = new HashSet<IntPtr>();
        foreach (var (parameters, multiplier) in groups)
        {
            foreach (var p in parameters)
            {
                if (!p.requires_grad || !seen.Add(p.Handle))
                    continue;
                using var noGrad = torch.no_grad();
                _entries.Add(new Entry(p, multiplier, torch.zeros_like(p).DetachFromDisposeScope(), torch.zeros_like(p).DetachFromDisposeScope()));
            }
        }
    }

    /// <summary>Peak learning rate of the next step (before group multipliers).</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken.</summary>
    public long StepCount => _step;

    /// <summary>
    /// Declares that index i along the given dimension of each of <paramref name="parameters"/> belongs to slot i
    /// of one group (an MoE layer's experts); returns the group's id for <see cref="ResetSlot"/> and <see cref="StartWarmup"/>.
    /// </summary>
    public int RegisterSlots(int slotCount, IEnumerable<(Tensor Parameter, int Dimension)> parameters)
    {
        var group = new SlotGroup(slotCount);
        foreach (var (parameter, dimension) in parameters)
        {
            var entry = _entries.FirstOrDefault(e => e.Parameter.Handle == parameter.Handle);
            if (entry is null)
                continue;
            if (parameter.shape[dimension] != slotCount)
                throw new ArgumentException($"Parameter dimension {dimension} has {parameter.shape[dimension]} entries, not {slotCount} slots.", nameof(parameters));
            entry.Slots = group;
            entry.SlotDimension = dimension;
            group.Entries.Add(entry);
        }
        _slotGroups.Add(group);
        return _slotGroups.Count - 1;
    }

    /// <summary>Zeroes slot <paramref name="slot"/>'s moments in every parameter of the group and restarts its step count, as a fresh AdamW would.</summary>
    public void ResetSlot(int group, int slot)
    {
        var g = _slotGroups[group];
        using var noGrad = torch.no_grad();
        using var zero = 0.ToScalar();
        foreach (var e in g.Entries)
        {
            e.ExpAvg.select(e.SlotDimension, slot).fill_(zero);
            e.ExpAvgSq.select(e.SlotDimension, slot).fill_(zero);
        }
        g.StepOffset[slot] = _step;
    }

    /// <summary>Scales slot <paramref name="slot"/>'s updates by <c>min(1, n / steps)</c> over its next <paramref name="steps"/> steps (n = steps since this call).</summary>
    public void StartWarmup(int group, int slot, int steps)
    {
        var g = _slotGroups[group];
        g.WarmupStart[slot] = _step;
        g.WarmupSteps[slot] = steps;
    }

    /// <summary>
    /// Zeroes every gradient in place, as torch's <c>zero_grad(set_to_none=False)</c>: the gradient tensors stay allocated,
    /// and a parameter that took part in an earlier step keeps being stepped (moments and weight decay) even in a step
    /// where its gradient is zero.
    /// </summary>
    public void ZeroGrad()
    {
        foreach (var e in _entries)
        {
            using var g = e.Parameter.grad;
            if (g is not null)
                g.zero_();
        }
    }

    /// <summary>One AdamW step on every parameter that has a gradient.</summary>
    public void Step()
    {
        _step++;
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var slotVectors = new Dictionary<SlotGroup, (Tensor C1, Tensor C2Sqrt, Tensor Scale)>();
        foreach (var e in _entries)
        {
            var grad = e.Parameter.grad;
            if (grad is null)
                continue;
            double lr = LearningRate * e.Multiplier;
            using var decay = (1 - lr * _weightDecay).ToScalar();
            e.Parameter.mul_(decay);
            e.ExpAvg.mul_(_beta1Scalar).add_(grad, _oneMinusBeta1);
            e.ExpAvgSq.mul_(_beta2Scalar).addcmul_(grad, grad, _oneMinusBeta2);
            if (e.Slots is null)
            {
                double bias1 = 1 - Math.Pow(_beta1, _step);
                double bias2Sqrt = Math.Sqrt(1 - Math.Pow(_beta2, _step));
                using var bias2SqrtScalar = bias2Sqrt.ToScalar();
                using var stepSize = (-lr / bias1).ToScalar();
                var denom = e.ExpAvgSq.sqrt().div_(bias2SqrtScalar).add_(_eps, _one);
                e.Parameter.addcdiv_(e.ExpAvg, denom, stepSize);
            }
            else
            {
                if (!slotVectors.TryGetValue(e.Slots, out var v))
                {
                    v = e.Slots.Vectors(_step, _beta1, _beta2, e.Parameter.device);
                    slotVectors[e.Slots] = v;
                }
                var shape = Enumerable.Repeat(1L, (int)e.Parameter.dim()).ToArray();
                shape[e.SlotDimension] = e.Slots.Count;
                var denom = e.ExpAvgSq.sqrt().div_(v.C2Sqrt.reshape(shape)).add_(_eps, _one);
                var update = e.ExpAvg.div(v.C1.reshape(shape)).div_(denom).mul_(v.Scale.reshape(shape));
                using var negativeLr = (-lr).ToScalar();
                e.Parameter.add_(update, negativeLr);
            }
        }
    }

    /// <summary>Disposes the moments and the held Scalars.</summary>
    public void Dispose()
    {
        foreach (var e in _entries)
        {
            e.ExpAvg.Dispose();
            e.ExpAvgSq.Dispose();
        }
        _entries.Clear();
        _beta1Scalar.Dispose();
        _oneMinusBeta1.Dispose();
        _beta2Scalar.Dispose();
        _oneMinusBeta2.Dispose();
        _eps.Dispose();
        _one.Dispose();
    }

    private sealed class Entry(Parameter parameter, double multiplier, Tensor expAvg, Tensor expAvgSq)
    {
        public Parameter Parameter { get; } = parameter;
        public double Multiplier { get; } = multiplier;
        public Tensor ExpAvg { get; } = expAvg;
        public Tensor ExpAvgSq { get; } = expAvgSq;
        public SlotGroup? Slots { get; set; }
        public int SlotDimension { get; set; }
    }

    private sealed class SlotGroup
    {
        public SlotGroup(int count)
        {
            Count = count;
            StepOffset = new long[count];
            WarmupStart = new long[count];
            WarmupSteps = new int[count];
        }

        public int Count { get; }
        public List<Entry> Entries { get; } = new();
        /// <summary>Global step at which each slot's moments were last reset (0 = never).</summary>
        public long[] StepOffset { get; }
        public long[] WarmupStart { get; }
        public int[] WarmupSteps { get; }

        public (Tensor C1, Tensor C2Sqrt, Tensor Scale) Vectors(long step, double beta1, double beta2, Device device)
        {
            var c1 = new float[Count];
            var c2 = new float[Count];
            var scale = new float[Count];
            for (int i = 0; i < Count; i++)
            {
                long t = step - StepOffset[i];
                c1[i] = (float)(1 - Math.Pow(beta1, t));
                c2[i] = (float)Math.Sqrt(1 - Math.Pow(beta2, t));
                scale[i] = WarmupSteps[i] > 0 ? (float)Math.Min(1.0, (double)(step - WarmupStart[i]) / WarmupSteps[i]) : 1f;
            }
            return (torch.tensor(c1).to(device), torch.tensor(c2).to(device), torch.tensor(scale).to(device));
        }
    }
}
