-- Issue 17: each employee's own working time (events/schedule.py), from the day it took effect
-- (a rota counts its cycle from there).
ALTER TABLE employees
    ADD COLUMN IF NOT EXISTS schedule       text,
    ADD COLUMN IF NOT EXISTS schedule_from  timestamptz;
