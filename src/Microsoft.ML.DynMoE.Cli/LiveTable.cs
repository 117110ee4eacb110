using Spectre.Console;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>The live terminal view of a long command: a Spectre table redrawn while the work runs.</summary>
    internal static class LiveTable
    {
        /// <summary>
        /// Shows <paramref name="table"/> while the work that <paramref name="start"/> begins runs, ticking its monitor and
        /// redrawing twice a second so elapsed times advance between events; returns the work's result.
        /// <paramref name="start"/> receives the redraw action for monitors that redraw on their own events.
        /// </summary>
        internal static T Show<T>(Table table, Func<Action, (Action Tick, Task<T> Run)> start)
        {
            T result = default!;
            AnsiConsole.Live(table).Start(ctx =>
            {
                var (tick, run) = start(ctx.Refresh);
                while (!run.IsCompleted)
                {
                    tick();
                    ctx.Refresh();
                    run.Wait(500);
                }
                result = run.GetAwaiter().GetResult();
            });
            return result;
        }
    }
}
