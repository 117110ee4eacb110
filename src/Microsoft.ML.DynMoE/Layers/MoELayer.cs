using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// A mixture-of-experts feed-forward layer with DynMoE top-any gating (default), top-k gating or a dense single expert.
/// Input <c>[tokens, d]</c> or <c>[batch, seq, d]</c>; output has the same shape. Gates run in float32. Dispatch is sparse
/// and dropless (see <see cref="ExpertBank.forward"/>). For top-any, experts are added and removed by
/// <see cref="AdaptExperts"/> from routing recorded during training forwards (<see cref="BeginRecording"/>).
/// </summary>
internal sealed class MoELayer : nn.Module<Tensor, Tensor>
{
    private readonly TopAnyGate? _topAnyGate;
    private readonly TopKGate? _topKGate;
    private readonly ExpertBank _experts;
    private RoutingStatistics _statistics;
    private Tensor? _auxiliaryLoss;
    private Tensor? _lastActivatedCounts;
    private Tensor? _recordedLoad;
    private Tensor? _recordedUnroutedSum;
    private long _recordedTokens;
    private Tensor? _pendingCounts; // [E_max + 1] int64 on the layer's device: per-slot load, then unrouted tokens
    private long _pendingTokens;

    /// <summary>Creates the layer: all <see cref="MoELayerOptions.MaximumExperts"/> slots allocated, the first <see cref="MoELayerOptions.InitialExperts"/> active.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="options">Layer settings; validated and copied.</param>
    /// <param name="generator">Random generator for the initial weights; null draws from the global torch generator.</param>
    public MoELayer(string name, MoELayerOptions options, Generator? generator = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Clone();

        int slots = Options.SlotCount;
        int initiallyActive = Options.Gating == GatingKind.Dense ? 1 : Options.InitialExperts;
        var aux = Options.ResolvedAuxiliaryLoss;
        switch (Options.Gating)
        {
            case GatingKind.TopAny:
                _topAnyGate = new TopAnyGate("gate", Options.ModelDimension, slots, aux, generator, Options.ThresholdInitialization);
                register_module("gate", _topAnyGate);
                break;
            case GatingKind.TopK:
                _topKGate = new TopKGate("gate", Options.ModelDimension, slots, Options.TopK, aux, generator);
                register_module("gate", _topKGate);
                break;
        }

        _experts = new ExpertBank("experts", slots, Options.ModelDimension, Options.ExpertHiddenDimension, Options.Activation, generator);
        register_module("experts", _experts);

        var mask = torch.zeros(slots);
        using (torch.no_grad())
        {
            using var one = 1.ToScalar();
            mask.narrow(0, 0, initiallyActive).fill_(one);
        }

        // Persistent, so Module.save/load carry the active set with the weights. Looked up by name (ExpertMask), not
        // cached: Module.to(device or dtype) replaces registered tensors and disposes the old ones.
        register_buffer("expert_mask", mask, true);
        _statistics = new RoutingStatistics(slots);
    }

    /// <summary>The (copied, validated) settings of this layer.</summary>
    public MoELayerOptions Options { get; }

    /// <summary>Unweighted scalar auxiliary loss of this layer from the last forward (0 when the loss kind is None); null before any forward.</summary>
    public Tensor? AuxiliaryLoss => _auxiliaryLoss;

    /// <summary>Experts that processed each token in the last forward, <c>[tokens]</c> int64, after the eval fallback.</summary>
    public Tensor? LastActivatedCounts => _lastActivatedCounts;

    /// <summary>Active-slot mask <c>[E_max]</c> float 0/1 (a persistent buffer; <c>[1]</c> for dense).</summary>
    public Tensor ExpertMask => get_buffer("expert_mask")!;

    /// <summary>Top-any gate embeddings W <c>[d, E_max]</c>; null for other gatings.</summary>
    public Tensor? GateEmbeddings => _topAnyGate?.GateEmbeddings;

    /// <summary>Top-any threshold logits θ <c>[E_max]</c>; null for other gatings.</summary>
    public Tensor? Thresholds => _topAnyGate?.Thresholds;

    /// <summary>Top-k router weights <c>[d, E_max]</c>; null for other gatings.</summary>
    public Tensor? RouterWeights => _topKGate?.RouterWeights;

    /// <summary>The top-any gate module; null for other gatings.</summary>
    public TopAnyGate? TopAnyGate => _topAnyGate;

    /// <summary>The top-k gate module; null for other gatings.</summary>
    public TopKGate? TopKGate => _topKGate;

    /// <summary>The expert feed-forward networks (one for dense).</summary>
    public ExpertBank Experts => _experts;

    /// <summary>Number of active slots.</summary>
    public int ActiveExpertCount
    {
        get
        {
            using var scope = NewDisposeScope();
            return (int)TensorNumberOps.GreaterThan(ExpertMask, 0).sum().item<long>();
        }
    }

    /// <summary>Cumulative routing counts over all forwards (training and eval) since <see cref="ResetRoutingStatistics"/>.</summary>
    /// <remarks>Routed layers count on the device during forwards; reading this property copies the counts to the host once.</remarks>
    public RoutingStatistics RoutingStatistics
    {
        get
        {
            FlushPendingCounts();
            return _statistics;
        }
    }

    /// <summary>True between <see cref="BeginRecording"/> and <see cref="EndRecording"/>; only training forwards are recorded.</summary>
    public bool IsRecording { get; private set; }

    /// <summary>Tokens recorded in the current window.</summary>
    public long RecordedTokens => _recordedTokens;

    /// <summary>Clears <see cref="RoutingStatistics"/>.</summary>
    public void ResetRoutingStatistics()
    {
        ClearPendingCounts();
        _statistics = new RoutingStatistics(Options.SlotCount);
    }

    /// <summary>Starts a new recording window (clearing the previous records). Only training-mode forwards record.</summary>
    public void BeginRecording()
    {
        ClearRecords();
        IsRecording = true;
    }

    /// <summary>Stops recording; the records are kept for <see cref="AdaptExperts"/> until the next <see cref="BeginRecording"/>.</summary>
    public void EndRecording() => IsRecording = false;

    /// <summary>
    /// DynMoE add/remove update (docs/routing.md, "Adaptation") from the current recording window, which it then clears.
    /// Remove first: every active slot that received no token in the window is deactivated. Then add: if any recorded
    /// token activated no expert, the lowest-index inactive slot (possibly one just removed) is activated with
    /// <c>W[:, e] = unit(Σ unrouted x)</c> and <c>θ_e</c> = <see cref="MoELayerOptions.ThresholdInitialization"/>; at most one
    /// per call, never beyond E_max. Its FFN weights follow <see cref="MoELayerOptions.NewExpertInitialization"/> (by default it
    /// keeps its own). Keep-at-least-one rule (our addition; the reference has no lower bound): if the update would leave no
    /// active slot, the lowest-index previously active slot stays active. A window with no recorded tokens changes
    /// nothing. Optimizer (Adam) moments of overwritten slices are not reset, as in the reference, unless the trainer resets them (ResetNewExpertOptimizerState).
    /// Top-k and dense layers never change.
    /// </summary>
    /// <returns>What changed.</returns>
    public ExpertAdaptation AdaptExperts()
    {
        int before = ActiveExpertCount;
        if (_topAnyGate is null || _recordedLoad is null || _recordedUnroutedSum is null || _recordedTokens == 0)
        {
            ClearRecords();
            return ExpertAdaptation.Unchanged(before);
        }

        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        float[] mask = ExpertMask.cpu().to(ScalarType.Float32).data<float>().ToArray();
        long[] load = _recordedLoad.cpu().data<long>().ToArray();
        var unroutedSum = _recordedUnroutedSum;
        double unroutedNorm = unroutedSum.norm().item<float>();

        bool[] wasActive = mask.Select(v => v > 0).ToArray();
        bool[] nowActive = (bool[])wasActive.Clone();
        var removed = new List<int>();
        for (int e = 0; e < nowActive.Length; e++)
        {
            if (nowActive[e] && load[e] == 0)
            {
                nowActive[e] = false;
                removed.Add(e);
            }
        }

        int? added = null;
        if (unroutedNorm > 0)
        {
            int free = Array.IndexOf(nowActive, false);
            if (free >= 0)
            {
                nowActive[free] = true;
                added = free;
                using var norm = unroutedNorm.ToScalar();
                using var theta = Options.ThresholdInitialization.ToScalar();
                var direction = unroutedSum.div(norm).to(_topAnyGate.GateEmbeddings.dtype);
                _topAnyGate.GateEmbeddings.select(1, free).copy_(direction);
                _topAnyGate.Thresholds.select(0, free).fill_(theta);
                InitializeAddedExpert(free, nowActive, wasActive, load);
            }
        }

        if (!nowActive.Any(v => v))
        {
            int keep = Array.IndexOf(wasActive, true);
            nowActive[keep] = true;
            removed.Remove(keep);
        }

        var newMask = torch.tensor(nowActive.Select(v => v ? 1f : 0f).ToArray()).to(ExpertMask.dtype).to(ExpertMask.device);
        ExpertMask.copy_(newMask);
        ClearRecords();
        return new ExpertAdaptation(removed, added, before, nowActive.Count(v => v));
    }

    /// <summary>Sets the feed-forward weights of the added slot as <see cref="MoELayerOptions.NewExpertInitialization"/> says.</summary>
    private void InitializeAddedExpert(int added, bool[] nowActive, bool[] wasActive, long[] load)
    {
        if (Options.NewExpertInitialization == NewExpertInitialization.Random)
        {
            return;
        }

        // Sources: the other slots that stay active, else (all were removed) the ones active before the update.
        var sources = Enumerable.Range(0, nowActive.Length).Where(e => e != added && nowActive[e]).ToList();
        if (sources.Count == 0)
        {
            sources = Enumerable.Range(0, wasActive.Length).Where(e => e != added && wasActive[e]).ToList();
        }

        if (sources.Count == 0)
        {
            return;
        }

        if (Options.NewExpertInitialization == NewExpertInitialization.CopyMostLoaded)
        {
            sources = new List<int> { sources.OrderByDescending(e => load[e]).ThenBy(e => e).First() };
        }

        _experts.InitializeSlot(added, sources);
    }

    /// <summary>Routes and combines <paramref name="input"/> (<c>[tokens, d]</c> or <c>[batch, seq, d]</c>).</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.shape[^1] != Options.ModelDimension)
        {
            throw new ArgumentException($"The last dimension of the input must be ModelDimension ({Options.ModelDimension}), got {input.shape[^1]}.", nameof(input));
        }

        using var scope = NewDisposeScope();
        var tokens = input.reshape(-1, Options.ModelDimension);
        long tokenCount = tokens.shape[0];

        Tensor output;
        Tensor activatedCounts;
        Tensor auxiliary;
        long[]? perExpert;
        if (tokenCount == 0)
        {
            // A batch of empty sequences has no token to route: the gate's mean-based auxiliary losses would be 0/0 = NaN
            // and poison every weight through the optimizer, so no loss, no routing and nothing recorded.
            output = TensorNumberOps.Multiply(tokens, 0); // zeros that stay in the graph, so backward still runs
            activatedCounts = torch.zeros(0, dtype: ScalarType.Int64, device: tokens.device);
            auxiliary = torch.zeros(new long[0], dtype: ScalarType.Float32, device: tokens.device);
            perExpert = new long[ExpertMask.shape[0]];
        }
        else if (Options.Gating == GatingKind.Dense)
        {
            output = _experts.ExpertForward(0, tokens);
            activatedCounts = torch.ones(tokenCount, dtype: ScalarType.Int64, device: tokens.device);
            auxiliary = torch.zeros(new long[0], dtype: ScalarType.Float32, device: tokens.device);
            perExpert = new[] { tokenCount };
        }
        else
        {
            var gateInput = tokens.to(ScalarType.Float32);
            GateDecision decision = _topAnyGate is not null
                ? _topAnyGate.forward(gateInput, ExpertMask)
                : _topKGate!.forward(gateInput, ExpertMask);
            output = _experts.forward(tokens, decision.Routed, decision.CombineWeights.to(tokens.dtype));
            activatedCounts = decision.Routed.sum(1, type: ScalarType.Int64);
            auxiliary = decision.AuxiliaryLoss;
            var load = decision.Routed.sum(dim: 0, type: ScalarType.Int64);
            // Counted on the device and read once when the statistics are read (per epoch), not synchronised every step.
            CountOnDevice(tokenCount, load, decision.Unrouted.sum(type: ScalarType.Int64));
            perExpert = null;
            if (training && IsRecording)
            {
                Record(gateInput, decision, load);
            }
        }

        if (perExpert is not null)
            _statistics.Add(tokenCount, perExpert, 0);
        Replace(ref _auxiliaryLoss, auxiliary);
        Replace(ref _lastActivatedCounts, activatedCounts);
        return output.reshape(input.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Routes only the tokens of <paramref name="input"/> (<c>[batch, seq, d]</c>) where <paramref name="tokenMask"/>
    /// (<c>[batch, seq]</c> bool) is true; the other positions (padding) get 0. Padding never reaches the gate, so it is
    /// never routed, recorded for adaptation, counted in the auxiliary losses or in the routing statistics.
    /// </summary>
    /// <param name="input">Tokens <c>[batch, seq, d]</c>.</param>
    /// <param name="tokenMask">True for real tokens; null routes every position.</param>
    public Tensor forward(Tensor input, Tensor? tokenMask)
    {
        if (tokenMask is null)
        {
            return forward(input);
        }

        using var scope = NewDisposeScope();
        var flat = input.reshape(-1, Options.ModelDimension);
        var index = tokenMask.reshape(-1).nonzero().reshape(-1);
        if (index.shape[0] == flat.shape[0])
        {
            // No padding (a length-bucketed batch often has none): the same rows in the same order, without the copies.
            return forward(input).MoveToOuterDisposeScope();
        }

        var routed = forward(flat.index_select(0, index));
        return torch.zeros_like(flat).index_copy(0, index, routed).reshape(input.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Disposes the tensors kept across forwards.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _auxiliaryLoss?.Dispose();
            _lastActivatedCounts?.Dispose();
            ClearRecords();
            ClearPendingCounts();
        }

        base.Dispose(disposing);
    }

    private void Record(Tensor gateInput, GateDecision decision, Tensor load)
    {
        using var noGrad = torch.no_grad();
        // Device type and index, not Tensor.device: Device compares by reference, so that test was always true and each
        // recorded forward cleared the window before (only the last step of a window was adapted from).
        if (_recordedLoad is null || _recordedUnroutedSum is null || _recordedLoad.device_type != load.device_type || _recordedLoad.device_index != load.device_index)
        {
            ClearRecords();
            _recordedLoad = torch.zeros(Options.SlotCount, dtype: ScalarType.Int64, device: load.device).DetachFromDisposeScope();
            _recordedUnroutedSum = torch.zeros(Options.ModelDimension, dtype: ScalarType.Float32, device: load.device).DetachFromDisposeScope();
        }

        TensorNumberOps.AddInPlace(_recordedLoad, load);
        var unroutedRows = decision.Unrouted.to(ScalarType.Float32).unsqueeze(1);
        TensorNumberOps.AddInPlace(_recordedUnroutedSum, gateInput.detach().mul(unroutedRows).sum(dim: 0));
        _recordedTokens += gateInput.shape[0];
    }

    private void CountOnDevice(long tokens, Tensor load, Tensor unrouted)
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        if (_pendingCounts is null || _pendingCounts.device_type != load.device_type || _pendingCounts.device_index != load.device_index)
        {
            FlushPendingCounts();
            ClearPendingCounts();
            _pendingCounts = torch.zeros(Options.SlotCount + 1, dtype: ScalarType.Int64, device: load.device).DetachFromDisposeScope();
        }

        TensorNumberOps.AddInPlace(_pendingCounts.narrow(0, 0, Options.SlotCount), load);
        TensorNumberOps.AddInPlace(_pendingCounts.narrow(0, Options.SlotCount, 1), unrouted.reshape(1));
        _pendingTokens += tokens;
    }

    private void FlushPendingCounts()
    {
        if (_pendingCounts is null || _pendingTokens == 0)
            return;
        using var scope = NewDisposeScope();
        long[] counts = _pendingCounts.cpu().data<long>().ToArray();
        _statistics.Add(_pendingTokens, counts[..Options.SlotCount], counts[Options.SlotCount]);
        _pendingTokens = 0;
        using var zero = 0.ToScalar();
        _pendingCounts.fill_(zero);
    }

    private void ClearPendingCounts()
    {
        _pendingCounts?.Dispose();
        _pendingCounts = null;
        _pendingTokens = 0;
    }

    /// <summary>Host copy of the device counts not yet read (tests: the statistics must not be read every step).</summary>
    internal long PendingTokens => _pendingTokens;

    private void ClearRecords()
    {
        _recordedLoad?.Dispose();
        _recordedUnroutedSum?.Dispose();
        _recordedLoad = null;
        _recordedUnroutedSum = null;
        _recordedTokens = 0;
    }

    private static void Replace(ref Tensor? slot, Tensor value)
    {
        slot?.Dispose();
        slot = value.DetachFromDisposeScope();
    }
}
