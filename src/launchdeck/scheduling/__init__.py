"""The pure scheduling package: plain data and maths for plans; imports nothing from Django or the apps."""
