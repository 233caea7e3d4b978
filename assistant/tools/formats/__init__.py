"""Tool calls in each provider's own wire format; one module per provider, each with the same three parts:

`with_tools(body, tools)` adds the tool list to a request body; `turn_messages(text, calls, results)` gives the messages
that record a turn that called tools and the results; `ToolStream` turns stream events into complete ToolCalls and
says (`wants_tools`) whether the turn ended because of them. Pure functions of dicts: no I/O, no SDK.
"""
